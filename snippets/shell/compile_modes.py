code = "6 * 7"
print("exec mode:")
exec(compile(code, "<demo>", "exec"))
print("single mode:")
exec(compile(code, "<demo>", "single"))
print("eval mode returns it:", eval(compile(code, "<demo>", "eval")))

#> exec mode:
#> single mode:
#> 42
#> eval mode returns it: 42
