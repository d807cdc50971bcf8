"""No AVX2/AVX-512 instruction may sit in a function the baseline code can reach through a
shared symbol (see tools/check_isa_leaks.py): that would crash older processors."""

from __future__ import annotations

import importlib.util
import pathlib
import shutil

import ember
import pytest

TOOL = pathlib.Path(__file__).resolve().parents[1] / "tools" / "check_isa_leaks.py"


@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs binutils' objdump")
def test_no_vector_isa_code_in_shared_symbols() -> None:
    spec = importlib.util.spec_from_file_location("check_isa_leaks", TOOL)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not mod.has_symbols(ember._C.__file__):
        pytest.skip("the module is stripped; build with install.strip = false to check")
    bad = mod.leaks(ember._C.__file__)
    assert not bad, "functions with AVX code outside anonymous namespaces: " + ", ".join(bad)
