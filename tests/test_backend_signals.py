"""Ctrl-C while the processes backend touches its pool: held, then delivered (never inside the pool's lock)."""

from __future__ import annotations

import os
import signal

import pytest

from qalamoun_sim.ensemble.backends import _sigint_deferred


def test_a_ctrl_c_in_the_block_is_raised_after_it() -> None:
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt):
        with _sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached_the_end = True  # not interrupted here
    assert reached_the_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is back
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # and SIGINT unblocked


def test_no_ctrl_c_no_interrupt_and_an_ignored_one_stays_ignored() -> None:
    with _sigint_deferred():
        pass
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
