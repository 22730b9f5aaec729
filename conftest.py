"""Root pytest configuration: names the docstring examples in labcode/ may use."""
import pytest
import torch

import labcode


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    # Docstring examples read like a notebook after `import torch` and
    # `from labcode import *`; give them exactly those names.
    doctest_namespace["torch"] = torch
    doctest_namespace.update({name: getattr(labcode, name) for name in labcode.__all__})
