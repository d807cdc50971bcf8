"""Checks that no AVX2/AVX-512 code can be reached from baseline code through a shared symbol.

Every function in the built module that uses ymm/zmm/mask registers must have internal linkage
in its own per-capability object: an anonymous-namespace function (or a lambda / OpenMP region
inside one). A function outside an anonymous namespace that uses them is an inline or template
instantiation the linker may have picked from an AVX2/AVX-512 object for every caller; on an
older processor that is an illegal instruction. Usage: python tools/check_isa_leaks.py MODULE.so
"""

from __future__ import annotations

import re
import subprocess
import sys


def has_symbols(path: str) -> bool:
    """Stripped modules name code by the nearest exported symbol: nothing to check then."""
    out = subprocess.run(["readelf", "-S", path], check=True, capture_output=True, text=True)
    return ".symtab" in out.stdout


def leaks(path: str) -> dict[str, str]:
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", path], check=True,
                         capture_output=True, text=True).stdout
    found: dict[str, str] = {}
    current = ""
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            current = m.group(1)
            continue
        if current in found or "(anonymous namespace)" in current:
            continue
        if re.search(r"%[yz]mm\d|%k[1-7]\b", line):
            found[current] = line.strip()
    return found


def main() -> int:
    if not has_symbols(sys.argv[1]):
        print("the module has no symbol table (stripped): cannot check")
        return 2
    bad = leaks(sys.argv[1])
    for name, insn in bad.items():
        print(f"{name[:160]}\n    {insn}")
    print(f"{len(bad)} function(s) outside an anonymous namespace use AVX2/AVX-512 registers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
