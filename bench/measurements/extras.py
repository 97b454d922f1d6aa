"""The extra measurements (``--full``, or a flag each), each on the blog instance it needs."""

from __future__ import annotations

from bench.context import BenchContext
from bench.cpus import cpu_count
from bench.measurements import browsers
from bench.measurements import cores
from bench.measurements import data_scaling
from bench.measurements import interference
from bench.measurements import many_connections
from bench.measurements import memory
from bench.measurements import profiling
from bench.measurements import slow_clients
from bench.measurements import writers
from bench.ours import OursInstance
from bench.scenarios import ANON
from bench.scenarios import CREATE
from bench.scenarios import USER
from bench.seeding import seed_ours


def run(context: BenchContext) -> None:
    """Those asked for: first on one fresh instance, then on the instances of their own."""
    settings = context.settings
    if not settings.any_extra:
        return
    cpu = context.pinned.server
    ours = OursInstance(context.workdir, "extras", settings.rate_limits)
    with ours.serve(cpu) as server:
        seeded = seed_ours(server.url, ours.database, settings.posts)
        loads = seeded.loads(csrf=True)
        if settings.memory:
            memory.run(context, server, seeded)
        if settings.browsers:
            browsers.run(context, server, loads)
        if settings.many:
            many_connections.run(context, server, loads)
        if settings.interference:
            interference.run(context, server, loads)
        if settings.slow:
            slow_clients.run(context, server, loads)
        if settings.profile:
            profiled = {key: loads[key] for key in (ANON, USER, CREATE)}
            profiling.run(context, server, profiled, "")
        if settings.write_burst:
            # Last on this instance: it adds thousands of posts.
            writers.run(context, server, loads)
    if settings.many:
        many_connections.run_pausing(context)
    if settings.cores:
        # Both servers run at once on the same database, so that the two are
        # measured in turn; the idle one costs nothing.
        with (
            ours.serve(cpu, processes=1) as one,
            ours.serve(None, processes=cpu_count()) as every,
        ):
            cores.run(context, one, every, loads)
    if settings.profile and seeded.user_cache:
        # Rendering, not the page cache: an instance with the cache off.
        render = OursInstance(
            context.workdir, "render", settings.rate_limits, {"PAGE_CACHE_SIZE": 0}
        )
        with render.serve(cpu) as server:
            rendered = seed_ours(server.url, render.database, settings.posts)
            profiling.run(
                context, server, {USER: rendered.loads(csrf=True)[USER]}, ", no page cache"
            )
    if settings.data:
        # Rendering with the page cache off, at the default page size
        # (POSTS_PER_PAGE left at the app's own default).
        data = OursInstance(
            context.workdir,
            "data",
            settings.rate_limits,
            {"PAGE_CACHE_SIZE": 0, "POSTS_PER_PAGE": None},
        )
        with data.serve(cpu) as server:
            rendered = seed_ours(server.url, data.database, settings.posts)
            data_scaling.run(context, server, data.database, rendered)
