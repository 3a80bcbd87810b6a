"""`make scale-check` (`python -m bench.scale`): the portal as an operator runs it, three `portal serve`
processes and two mail workers on PostgreSQL and Redis behind nginx with the site configuration in
deploy/, driven by signed-in people while processes are killed, restarted and cut off from the
database. It fails when a person would have noticed. See bench/README.md, "Scale check".

Every module here that imports `src` imports `bench.scale.env` first: it names the throw-away
database before Piccolo binds its engine. The others (nginx, process, tcp_proxy, sink) stand alone.
"""
