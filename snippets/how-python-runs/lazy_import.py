#| versions: 3.15+
#| why: the `lazy import` statement (PEP 810) is new syntax in 3.15
import sys

lazy import json

print("after `lazy import json`:", "json" in sys.modules, type(globals()["json"]).__name__)
text = json.dumps([1, 2])  # first use: the import really happens now
print("after first use:         ", "json" in sys.modules, type(globals()["json"]).__name__)

#> after `lazy import json`: False lazy_import
#> after first use:          True module
