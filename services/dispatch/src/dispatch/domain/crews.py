"""Crews: a job that needs several technicians books them together at one time. The start is one
of the times at which some qualified technician could begin it; at each such time every other
technician is asked whether the job fits their route starting exactly then; the cheapest crew
(sum of the members' insertion costs) wins. Its visits are then fixed on each member's route."""

from __future__ import annotations

from dispatch.domain.routes import Option, RouteSet

CANDIDATE_TECHS = 20


def crew_options(rs: RouteSet, j: int, size: int, *, techs: list[int] | None = None) -> list[Option] | None:
    """The cheapest set of `size` placements of job j on distinct technicians at one start."""
    inst = rs.inst
    pool = techs if techs is not None else inst.nearest_techs(j, CANDIDATE_TECHS)
    shifts_of = {t: [s for s in rs.candidate_shifts(j, [t])] for t in pool}
    # the exact times: a start rounded down would be before the technician it came from can be there
    starts: set[float] = set()
    for t in pool:
        for o in rs.options(j, shifts_of[t]):
            starts.add(o.start)
    best: tuple[float, list[Option]] | None = None
    for start in sorted(starts):
        per_tech = []
        for t in pool:
            opts = rs.options(j, shifts_of[t], fixed=start)
            if opts:
                per_tech.append(min(opts, key=lambda o: o.cost))
        if len(per_tech) < size:
            continue
        chosen = sorted(per_tech, key=lambda o: o.cost)[:size]
        total = sum(o.cost for o in chosen)
        if best is None or total < best[0]:
            best = (total, chosen)
    return best[1] if best else None


def place_crew(rs: RouteSet, j: int) -> bool:
    size = rs.inst.jobs[j].crew_size
    chosen = crew_options(rs, j, size)
    if chosen is None:
        return False
    for o in chosen:
        rs.insert(o)
    return True
