"""Many replications' generators at once: numpy's ``SeedSequence`` hashing over all the spawn keys together.

``replication_rng(seed, r, stream)`` (:mod:`.state`) is ``default_rng(SeedSequence(seed, spawn_key=(r, stream)))``:
about 12-30 us each, most of it building the ``SeedSequence`` and hashing its pool one replication at a
time. The hash is 32-bit integer arithmetic whose constants do not depend on the data, so here it runs
on arrays of every replication's words at once (numpy's ``SeedSequence.mix_entropy`` and
``generate_state``, step by step), and each ``PCG64`` is seeded from its precomputed words (2-5 us each).
The generators are the same: the same state, the same draws. The first and the last are checked against
numpy's own; on any difference (another numpy) every generator is built the slow way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["spawned_generators"]

_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R, _XSHIFT = 0xCA01F9DD, 0x4973F715, np.uint32(16)
_POOL_SIZE = 4


class _Seeded(ISeedSequence):
    """A seed sequence that hands ``PCG64`` its four precomputed 64-bit words (it spawns nothing)."""

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:  # type: ignore[override]
        if n_words != 4 or np.dtype(dtype) != np.dtype(np.uint64):
            raise ValueError("precomputed for PCG64's four 64-bit words only")
        return self.words


def _words(x: int) -> list[int]:
    """An integer as numpy's 32-bit words, least significant first (0 is one word)."""
    out = [x & _M32]
    while x > _M32:
        x >>= 32
        out.append(x & _M32)
    return out


def _pools(seed: int, keys: np.ndarray, stream: int) -> np.ndarray:
    """(R, 4) uint32: ``SeedSequence(seed, spawn_key=(key, stream)).pool`` for each key."""
    run = _words(seed)
    run += [0] * (_POOL_SIZE - len(run))  # padded to the pool when there is a spawn key
    n = len(keys)
    entropy = [np.full(n, w, dtype=np.uint32) for w in run] + [keys.astype(np.uint32), np.full(n, stream, np.uint32)]
    hash_const = [_INIT_A]

    def hashmix(value: np.ndarray) -> np.ndarray:
        value = value ^ np.uint32(hash_const[0])
        hash_const[0] = hash_const[0] * _MULT_A & _M32
        value = value * np.uint32(hash_const[0])
        return value ^ (value >> _XSHIFT)

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result: np.ndarray = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
        return result ^ (result >> _XSHIFT)

    mixer = [hashmix(entropy[i]) for i in range(_POOL_SIZE)]
    for i_src in range(_POOL_SIZE):
        for i_dst in range(_POOL_SIZE):
            if i_src != i_dst:
                mixer[i_dst] = mix(mixer[i_dst], hashmix(mixer[i_src]))
    for i_src in range(_POOL_SIZE, len(entropy)):
        for i_dst in range(_POOL_SIZE):
            mixer[i_dst] = mix(mixer[i_dst], hashmix(entropy[i_src]))
    return np.stack(mixer, axis=1)


def _pcg64_words(pools: np.ndarray) -> np.ndarray:
    """(R, 4) uint64: ``generate_state(4, np.uint64)`` of each pool (eight 32-bit words, little-endian pairs)."""
    hash_const = _INIT_B
    out = []
    for i in range(8):
        value = pools[:, i % _POOL_SIZE] ^ np.uint32(hash_const)
        hash_const = hash_const * _MULT_B & _M32
        value = value * np.uint32(hash_const)
        out.append(value ^ (value >> _XSHIFT))
    return np.ascontiguousarray(np.stack(out, axis=1)).view("<u8").astype(np.uint64)


def spawned_generators(seed: int, keys: Sequence[int] | np.ndarray, stream: int) -> list[np.random.Generator]:
    """``[default_rng(SeedSequence(seed, spawn_key=(k, stream))) for k in keys]``: the same generators, faster.

    Their bit generators' ``seed_seq`` is not a ``SeedSequence`` (they are for drawing, not for spawning).

    >>> from numpy.random import SeedSequence, default_rng
    >>> fast = spawned_generators(7, [0, 5], 1)
    >>> [g.random() for g in fast] == [default_rng(SeedSequence(7, spawn_key=(k, 1))).random() for k in (0, 5)]
    True
    """
    def slow() -> list[np.random.Generator]:
        return [np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(k), stream))) for k in keys]

    k = np.asarray(keys, dtype=np.int64)
    if len(k) == 0 or seed < 0 or not 0 <= stream <= _M32 or k.min() < 0 or k.max() > _M32:
        return slow()
    with np.errstate(over="ignore"):  # 32-bit arithmetic wraps, as in numpy's hash
        words = _pcg64_words(_pools(int(seed), k, int(stream)))
    # numpy takes any ISeedSequence for a seed (its stubs name SeedSequence alone)
    out = [np.random.Generator(np.random.PCG64(_Seeded(w))) for w in words]  # type: ignore[arg-type]
    # the first and the last checked against numpy's own: on any difference, numpy's way for all
    for i in {0, len(k) - 1}:
        own = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(k[i]), stream)))
        if out[i].bit_generator.state != own.bit_generator.state:
            return slow()
    return out
