"""The layers of the source tree, as the build enforces them (README "Layout").

    common <- {graph, store} <- {collector, api} <- server

A folder may include the headers of its own folder and of the folders to its left, never those of a
folder to its right or beside it, and never another folder's internal header (`*_int.h`). libpq's
headers are for store/ only and libevent's for server/ only (libevent's live on the default include
path, so for them the scan is the check; libpq's do not, so the compiler refuses them too).

Two checks: a scan of every #include in the tree against that table, and the compiler itself: a probe
file that includes a forbidden header is compiled with the real compile command of a file of the
folder (from the build's compile_commands.json) and must fail, while the same probe with an allowed
header must compile (so the check can tell the two apart)."""

import json
import os
import re
import shlex
import subprocess
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LINEAGED_BUILD", os.path.join(REPO, "build"))

# Each folder and the folders whose headers it may include (itself included).
ALLOWED = {
    "common": {"common"},
    "graph": {"common", "graph"},
    "store": {"common", "store"},
    "collector": {"common", "graph", "store", "collector"},
    "api": {"common", "graph", "store", "api"},
    "server": {"common", "graph", "store", "collector", "api", "server"},
}
# System headers only one folder may include.
PRIVATE_SYSTEM = {"libpq-fe.h": "store", "libpq/": "store", "event2/": "server", "http_parser.h": "server"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def headers_by_folder():
    """{header basename: folder} for every header of the layered folders."""
    out = {}
    for folder in ALLOWED:
        for name in os.listdir(os.path.join(REPO, folder)):
            if name.endswith(".h"):
                assert name not in out, "header %s is in both %s/ and %s/" % (name, out[name], folder)
                out[name] = folder
    return out


def includes_of(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE_RE.findall(f.read())


def violations(folder, path, owner):
    """Messages for each include of `path` (a file of `folder`) that breaks the layering."""
    bad = []
    for kind, name in includes_of(path):
        rel = os.path.relpath(path, REPO) if path.startswith(REPO) else path
        if kind == '"':
            home = owner.get(os.path.basename(name))
            if home is None:
                bad.append("%s includes \"%s\", which no layered folder holds" % (rel, name))
            elif home not in ALLOWED[folder]:
                bad.append("%s includes %s/%s: %s/ may not depend on %s/" % (rel, home, name, folder, home))
            elif home != folder and name.endswith("_int.h"):
                bad.append("%s includes %s/%s, an internal header of another folder" % (rel, home, name))
        else:
            for prefix, only in PRIVATE_SYSTEM.items():
                if name.startswith(prefix) and folder != only:
                    bad.append("%s includes <%s>, which only %s/ may use" % (rel, name, only))
    return bad


class IncludeScanTest(unittest.TestCase):
    def test_every_include_respects_the_layers(self):
        owner = headers_by_folder()
        bad = []
        for folder in ALLOWED:
            for name in sorted(os.listdir(os.path.join(REPO, folder))):
                if name.endswith((".c", ".h")):
                    bad += violations(folder, os.path.join(REPO, folder, name), owner)
        self.assertEqual(bad, [])

    def test_scan_catches_a_forbidden_include(self):
        owner = headers_by_folder()
        with tempfile.NamedTemporaryFile("w", suffix=".c") as f:
            f.write('#include "graph.h"\n#include "store.h"\n#include "lineage_int.h"\n#include <libpq-fe.h>\n')
            f.flush()
            bad = violations("graph", f.name, owner)
        self.assertEqual(len(bad), 3, bad)
        self.assertIn("graph/ may not depend on store/", bad[0])
        self.assertIn("graph/ may not depend on api/", bad[1])
        self.assertIn("only store/ may use", bad[2])


class CompilerEnforcesLayersTest(unittest.TestCase):
    """Compiles probe files with each folder's real compile command."""

    @classmethod
    def setUpClass(cls):
        path = os.path.join(BUILD, "compile_commands.json")
        if not os.path.isfile(path):
            raise unittest.SkipTest("no %s (meson writes it at setup)" % path)
        with open(path) as f:
            cls.commands = json.load(f)

    def command_for(self, folder):
        for c in self.commands:
            if os.path.normpath(os.path.join(c["directory"], c["file"])).startswith(
                    os.path.join(REPO, folder) + os.sep):
                return c
        self.fail("no compile command for a file of %s/" % folder)

    def compiles(self, folder, text):
        """(ok, compiler output) for a probe file compiled as if it were a file of folder."""
        c = self.command_for(folder)
        argv = shlex.split(c["command"])
        keep = []
        skip = False
        for a in argv:  # drop the output, dependency-file and source arguments
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MQ", "-c"):
                skip = True
                continue
            if a == "-MD":
                continue
            keep.append(a)
        with tempfile.TemporaryDirectory() as d:
            probe = os.path.join(d, "probe.c")
            with open(probe, "w") as f:
                f.write(text)
            p = subprocess.run(keep + ["-fsyntax-only", probe], cwd=c["directory"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        return p.returncode == 0, p.stdout.decode("utf-8", "replace")

    def test_allowed_headers_compile(self):
        owner = headers_by_folder()
        for folder, allowed in ALLOWED.items():
            for home in sorted(allowed):
                header = sorted(h for h, f in owner.items() if f == home and not h.endswith("_int.h"))[0]
                with self.subTest(folder=folder, header=header):
                    ok, out = self.compiles(folder, '#include "%s"\n' % header)
                    self.assertTrue(ok, out)

    def test_headers_of_folders_to_the_right_do_not_compile(self):
        owner = headers_by_folder()
        for folder, allowed in ALLOWED.items():
            for home in sorted(set(ALLOWED) - allowed):
                header = sorted(h for h, f in owner.items() if f == home)[0]
                with self.subTest(folder=folder, header=header):
                    ok, out = self.compiles(folder, '#include "%s"\n' % header)
                    self.assertFalse(ok, "%s/ compiled an include of %s/%s" % (folder, home, header))
                    self.assertIn("No such file", out)

    def test_libpq_compiles_in_store_only(self):
        for folder in ALLOWED:
            with self.subTest(folder=folder):
                ok, out = self.compiles(folder, "#include <libpq-fe.h>\n")
                self.assertEqual(ok, folder == "store", out)

if __name__ == "__main__":
    unittest.main()
