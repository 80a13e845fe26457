# Runs INSIDE the interpreter under test, never imported by the engine.
#
# It is started as `python -s -c "exec(open(THIS).read(), {...})"`, so the REPL's
# namespace (`__main__`) stays as pristine as a fresh `python` prompt: nothing
# defined here leaks into it. It must stay valid Python 3.9 (PyPy) and import
# nothing that a bare interpreter has not already imported at start-up, because
# every extra module skews what snippets show (`sys.modules`, refcounts).
#
# Protocol: argv = [inputs file, results file, filename style]. The inputs file
# holds the transcript's inputs separated by NUL. stdout and stderr share one
# file (the parent owns it); after each input we append "index offset status"
# to the results file, so the parent can cut the output per input even when the
# process dies half-way.


def _serve():
    import os
    import sys

    inputs_path, results_path, style = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(inputs_path, encoding="utf-8") as handle:
        sources = handle.read().split("\0")
    results = open(results_path, "w", encoding="utf-8")
    os.set_inheritable(results.fileno(), False)

    # What a fresh interactive interpreter has that `python -c` lacks.
    sys.argv[:] = [""]
    if sys.implementation.name == "pypy":
        sys.ps1, sys.ps2 = ">>>> ", ".... "
    else:
        sys.ps1, sys.ps2 = ">>> ", "... "
    namespace = sys.modules["__main__"].__dict__
    future_flags = 0

    for index, source in enumerate(sources):
        if style == "python-input":
            # 3.13+ REPL: each input gets its own pseudo-file whose lines the
            # traceback can show.
            filename = "<python-input-%d>" % index
            import linecache

            linecache.cache[filename] = (
                len(source),
                None,
                source.splitlines(True),
                filename,
            )
        else:
            filename = "<stdin>"
        status = "ok"
        try:
            code = compile(source, filename, "single", future_flags, True)
        except (OverflowError, SyntaxError, ValueError):
            status = "syntax"
            # Like the REPL: no traceback header, only the caret display.
            _show(sys.exc_info(), skip_frames=None)
        else:
            try:
                exec(code, namespace)
            except SystemExit:
                _flush(sys)
                results.write("%d %d exit\n" % (index, _offset(os)))
                results.flush()
                raise
            except BaseException:
                status = "exception:" + type(sys.exc_info()[1]).__name__
                _show(sys.exc_info(), skip_frames=1)
            # After exec: the import statement is what loads __future__.
            future_flags |= _future_flags(code)
        _flush(sys)
        results.write("%d %d %s\n" % (index, _offset(os), status))
        results.flush()


def _show(info, skip_frames):
    # Mirrors Lib/code.py: record sys.last_* and hand over to sys.excepthook,
    # dropping the frame of this worker so the traceback starts at the input.
    import sys

    typ, value, tb = info
    sys.last_type, sys.last_value, sys.last_traceback = typ, value, tb
    if hasattr(sys, "last_exc"):
        sys.last_exc = value
    if skip_frames is None:
        tb = None
    else:
        for _ in range(skip_frames):
            if tb is not None:
                tb = tb.tb_next
    # The hook prints value.__traceback__, not its tb argument.
    if value is not None:
        value = value.with_traceback(tb)
    sys.excepthook(typ, value, tb)


def _future_flags(code):
    # `from __future__ import x` in one input applies to later ones (codeop does
    # the same); only import __future__ when an input actually used it.
    import sys

    if "__future__" not in sys.modules:
        return 0
    import __future__

    flags = 0
    for name in __future__.all_feature_names:
        feature = getattr(__future__, name)
        if code.co_flags & feature.compiler_flag:
            flags |= feature.compiler_flag
    return flags


def _flush(sys):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _offset(os):
    return os.fstat(1).st_size


_serve()
