import dis


def grow():
    s = "x" * 30
    for _ in range(20):
        s += "y"
    return s


for _ in range(100):  # warm up: let the interpreter specialize grow()
    grow()

names = {i.opname for i in dis.get_instructions(grow, adaptive=True)}
print("specialized:", "BINARY_OP_INPLACE_ADD_UNICODE" in names)

#>[3.11 3.12 3.13 3.14 3.15]
#> specialized: True
#>[3.13t]
#> specialized: False
