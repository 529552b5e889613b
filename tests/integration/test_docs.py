"""docs/components.md must describe every compiled-in component and show each
key exactly as the component's config table does (`profgate components
--docs` prints the tables from the binary), so the reference cannot drift."""

import os
import re
import subprocess

import pgtest
from pgtest import check

gen = subprocess.run([pgtest.BIN, "components", "--docs"], capture_output=True, text=True, check=True).stdout
doc = open(os.path.join(pgtest.SOURCE_DIR, "docs", "components.md")).read()
for kind, typ in re.findall(r"^## (\w+) `([^`]+)`", gen, re.M):
    check(re.search(r"^## %s `%s`" % (kind, re.escape(typ)), doc, re.M | re.I) is not None,
          "docs/components.md has a section for %s %s" % (kind, typ))
rows = [line for line in gen.splitlines() if line.startswith("| `")]
check(len(rows) > 10, "the binary printed key rows (%d)" % len(rows))
for row in rows:
    check(row in doc, "docs/components.md shows the key row exactly as the table: %s" % row)
pgtest.finish()
