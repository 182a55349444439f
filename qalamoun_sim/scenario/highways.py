"""OpenStreetMap ``highway`` tags and the model's three surfaces: the table GraphML edges are read through.

The table is :data:`SURFACE_OF_HIGHWAY` (listed in ``docs/guides.md``, "From GraphML (OSMnx)"). A tag it lacks is
an error unless the scenario maps it (``[network.surfaces]``) or names a fallback (``network.default_surface``):
an unknown tag never silently becomes a track. An edge with several tags (OSMnx writes a simplified way as
``"['service', 'unclassified']"``) takes the most capable of their surfaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["SURFACE_OF_HIGHWAY", "HIGHWAY_OF_SURFACE", "DEFAULT_CAPACITY_TPD", "SURFACE_RANK", "UnknownHighway",
           "surface_and_capacity"]

_ROADS = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service",
          "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link", "living_street",
          "road", "busway", "bus_guideway", "escape", "raceway", "rest_area", "services", "emergency_bay")
_TRACKS = ("track", "construction", "abandoned", "disused")
_TRAILS = ("path", "footway", "bridleway", "steps", "pedestrian", "cycleway", "corridor", "via_ferrata",
           "elevator", "platform", "crossing", "trail")

#: OSM ``highway`` tag -> surface. Roads: every tag a truck may use (OSM's road classes, their links,
#: living streets, service roads, bus ways). Tracks: ``track`` and unfinished or disused roads (a 4x4 gets
#: through). Trails: ways too narrow or steep for vehicles (paths, footways, steps, cycleways, pedestrian
#: streets): mules and porters. Not in the table, so an error unless mapped: ``proposed``, ``planned``,
#: ``razed``, ``no`` and any other tag (a way that may not exist is the analyst's call).
SURFACE_OF_HIGHWAY: dict[str, str] = {**{t: "road" for t in _ROADS}, **{t: "track" for t in _TRACKS},
                                      **{t: "trail" for t in _TRAILS}}

#: The ``highway`` tag written for each surface (:meth:`RouteNetwork.to_graphml`).
HIGHWAY_OF_SURFACE: dict[str, str] = {"road": "primary", "track": "track", "trail": "path"}

#: Capacity (t/day) of an edge that gives none, by surface [E]: a road carries trucks, a track pickups,
#: a trail mules (the reference scenario's figures, docs/background.md s.13). ``[network.capacity_tpd]``
#: overrides it per surface or per tag.
DEFAULT_CAPACITY_TPD: dict[str, float] = {"road": 200.0, "track": 40.0, "trail": 5.0}

#: Most capable first: an edge with several tags takes the surface of lowest rank.
SURFACE_RANK: dict[str, int] = {"road": 0, "track": 1, "trail": 2}


class UnknownHighway(ValueError):
    """A ``highway`` tag neither the table nor the scenario maps (``tag`` is the tag, or "" for none)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        what = f"highway '{tag}' is not in the highway table" if tag else "no highway tag and no surface"
        super().__init__(f"{what} (docs/guides.md, 'From GraphML (OSMnx)'); map it with "
                         f"network.surfaces.{tag or 'TAG'} = \"track\" (or road, trail) or set network.default_surface")


def surface_and_capacity(tags: Iterable[str], surfaces: Mapping[str, str] | None = None,
                         capacities: Mapping[str, float] | None = None,
                         default_surface: str | None = None) -> tuple[str, float]:
    """The surface and default capacity of an edge with these ``highway`` tags.

    ``surfaces`` maps tags beyond (or instead of) :data:`SURFACE_OF_HIGHWAY`; ``capacities`` gives
    capacities by tag or by surface (else :data:`DEFAULT_CAPACITY_TPD`); ``default_surface`` is the
    surface of a tag neither maps. The surface is the most capable of the tags', the capacity the largest.

    Raises
    ------
    UnknownHighway
        A tag that nothing maps (or no tag at all) and no ``default_surface``.

    Examples
    --------
    >>> surface_and_capacity(["service", "unclassified"])
    ('road', 200.0)
    >>> surface_and_capacity(["path", "track"], capacities={"track": 30.0})
    ('track', 30.0)
    """
    surfaces, capacities = surfaces or {}, capacities or {}
    found: list[tuple[str, float]] = []
    for tag in list(tags) or [""]:
        surface = surfaces.get(tag) or SURFACE_OF_HIGHWAY.get(tag) or default_surface
        if surface is None:
            raise UnknownHighway(tag)
        found.append((surface, float(capacities.get(tag, capacities.get(surface, DEFAULT_CAPACITY_TPD[surface])))))
    surface = min((s for s, _ in found), key=SURFACE_RANK.__getitem__)
    return surface, max(c for _, c in found)
