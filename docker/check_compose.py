#!/usr/bin/env python3
"""docker/check_compose.py - checks docker/docker-compose.yml without running it (its images come from a
registry): YAML parsed by PyYAML (Debian's python3-yaml), then what Compose itself would refuse and what
would only fail at run time: unknown top-level keys, build contexts and Dockerfiles that do not exist,
depends_on naming a missing service or waiting for health of a service with no healthcheck, undeclared
named volumes, a host port published twice, LINEAGED_* variables that are not lineaged options, a database
URL whose host is not a service, a published container port that is not the one lineaged listens on.

Usage: check_compose.py COMPOSE_FILE OPTIONS_HELP_FILE
  OPTIONS_HELP_FILE: the output of `lineaged serve --help` (from the image under test), which names every
  environment variable lineaged reads.
Prints one line per problem, then `compose: ok` or `compose: N problems`; exits 0 only when ok.
"""

import os
import re
import sys
import urllib.parse

import yaml

TOP_LEVEL = {"services", "volumes", "networks", "configs", "secrets", "name", "version"}


def check_build(name, svc, base, problems):
    build = svc.get("build")
    if build is None:
        if "image" not in svc:
            problems.append("service %s has neither image nor build" % name)
        return
    if isinstance(build, str):
        build = {"context": build}
    context = os.path.normpath(os.path.join(base, build.get("context", ".")))
    dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
    if not os.path.isdir(context):
        problems.append("service %s: build context %s is not a directory" % (name, context))
    elif not os.path.isfile(dockerfile):
        problems.append("service %s: Dockerfile %s does not exist" % (name, dockerfile))


def environment(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def check_lineaged_env(name, svc, services, known_env, problems):
    env = environment(svc)
    for key in env:
        if key.startswith("LINEAGED_") and key not in known_env:
            problems.append("service %s: %s is not a lineaged option (see `lineaged serve --help`)" % (name, key))
    url = env.get("LINEAGED_DATABASE_URL")
    if url:
        host = urllib.parse.urlsplit(url).hostname
        if host not in services:
            problems.append("service %s: LINEAGED_DATABASE_URL host %r is not a service" % (name, host))
        dep = svc.get("depends_on") or {}
        if host not in dep:
            problems.append("service %s: does not depend on its database service %r" % (name, host))
    port = str(env.get("LINEAGED_PORT", "5000"))
    for p in svc.get("ports") or []:
        container = str(p).rsplit(":", 1)[-1].split("/")[0]
        if container != port:
            problems.append("service %s: publishes container port %s but lineaged listens on %s" % (name, container,
                                                                                                  port))


def check_service(name, svc, doc, base, known_env, problems, host_ports):
    services = doc["services"]
    check_build(name, svc, base, problems)
    dep = svc.get("depends_on") or {}
    for other in dep:
        if other not in services:
            problems.append("service %s depends on missing service %s" % (name, other))
        elif isinstance(dep, dict) and (dep[other] or {}).get("condition") == "service_healthy" \
                and "healthcheck" not in services[other]:
            problems.append("service %s waits for %s to be healthy, which has no healthcheck" % (name, other))
    for v in svc.get("volumes") or []:
        source = str(v).split(":", 1)[0]
        if not source.startswith((".", "/", "~")) and source not in (doc.get("volumes") or {}):
            problems.append("service %s uses volume %s, not declared under volumes" % (name, source))
    for p in svc.get("ports") or []:
        parts = str(p).split(":")
        if len(parts) > 1:
            if parts[-2] in host_ports:
                problems.append("host port %s is published by %s and %s" % (parts[-2], host_ports[parts[-2]], name))
            host_ports[parts[-2]] = name
    image = str(svc.get("image", ""))
    if svc.get("build") is not None or "lineaged" in image:
        check_lineaged_env(name, svc, services, known_env, problems)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, help_file = sys.argv[1], sys.argv[2]
    with open(help_file, encoding="utf-8") as f:
        known_env = set(re.findall(r"\benv (LINEAGED_[A-Z0-9_]+)", f.read()))
    if not known_env:
        sys.exit("check_compose: no 'env LINEAGED_...' lines in %s" % help_file)
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    problems = []
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) or not doc["services"]:
        problems.append("no services")
    else:
        for key in doc:
            if key not in TOP_LEVEL and not str(key).startswith("x-"):
                problems.append("unknown top-level key %r" % key)
        host_ports = {}
        for name, svc in doc["services"].items():
            check_service(name, svc or {}, doc, os.path.dirname(os.path.abspath(path)), known_env, problems,
                          host_ports)
    for p in problems:
        print("compose: " + p)
    print("compose: ok" if not problems else "compose: %d problems" % len(problems))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
