# Runs INSIDE the interpreter under test, never imported by the engine.
#
# It types a transcript into the interpreter's own interactive console, line by
# line, the way a person types it at a terminal, so that what comes out is what
# that interpreter's default REPL prints:
#
# * PyREPL (CPython 3.13+, PyPy 3.11; Lib/_pyrepl): its real read loop,
#   `run_multiline_interactive_console`, with its real console
#   (`InteractiveColoredConsole`: each top-level statement of an input compiled
#   on its own, only the last in "single" mode). Only the terminal is replaced:
#   `multiline_input` gets the transcript's lines instead of keystrokes, and
#   asks the REPL's own `more_lines` after each line whether Enter accepts the
#   input or opens a continuation line, exactly as the terminal reader does.
# * The basic REPL (CPython up to 3.12, or PYTHON_BASIC_REPL=1): the C read
#   loop, emulated here the way codeop decides when an input is complete (the
#   C loop is not reachable from Python): one "single" compile per complete
#   input, filename "<stdin>". PyPy's basic REPL is code.InteractiveConsole,
#   which is what runs for it.
#
# It is started as `python -s -c "exec(<compiled worker>, {...})"`, so the
# REPL's namespace (`__main__`) is as pristine as a fresh prompt's. Before the
# loop it calls `sys.__interactivehook__` as the interpreter does at a prompt
# (site's readline and history set-up), so the modules a reader's REPL has are
# loaded here too.
#
# Protocol: argv = [inputs file, results file, drawing file, names...]. The inputs file holds the
# transcript's inputs separated by NUL, each a "\n"-separated list of lines as
# typed. stdout and stderr share one file the engine owns; after each input's
# output we append "index offset status" to the results file, so the engine
# can cut the output per input even when the process dies half-way. Output a
# REPL prints after the Enter of some line belongs to that line's input.
# When names follow, the objects they name at the end of the session are
# walked and written to the drawing file as JSON (see _draw) for a diagram.

import os
import sys


class _Transcript:
    """The lines a person types, and the bookkeeping of which input each belongs to."""

    def __init__(self, inputs, mark):
        self.lines = []
        for index, source in enumerate(inputs):
            for line in source.split("\n")[:-1] or [""]:
                self.lines.append((index, line))
        self.count = len(inputs)
        self.mark = mark  # mark(index, status): input `index` has printed all it will
        self.position = 0
        self.current = -1  # the input whose lines were typed last
        self.recorded = 0  # inputs whose results are written
        self.seen_error = None

    def _record_up_to(self, last, status=None):
        _flush()
        while self.recorded <= last:
            self.mark(self.recorded, status if self.recorded == last and status else self._status())
            self.recorded += 1

    def _status(self):
        error = getattr(sys, "last_value", None)
        if error is None or error is self.seen_error:
            return "ok"
        self.seen_error = error
        if isinstance(error, SyntaxError):
            return "syntax"
        return "exception:" + type(error).__name__

    def next_line(self):
        """The next typed line; everything of earlier inputs has run by now. None at the end."""
        if self.position >= len(self.lines):
            return None
        index, line = self.lines[self.position]
        self.position += 1
        if index != self.current:
            self._record_up_to(index - 1)
            self.current = index
        return line

    def finish(self, status=None):
        self._record_up_to(self.count - 1 if status is None else self.current, status)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _pyrepl():
    """The PyREPL package this interpreter would start at a terminal, or None."""
    if os.environ.get("PYTHON_BASIC_REPL"):
        return None
    for name in ("_pyrepl", "pyrepl"):  # CPython 3.13+, PyPy
        try:
            return __import__(name + ".simple_interact", fromlist=["x"]), name
        except ImportError:
            continue
    return None


class _NoTerminal:
    """What the REPL's commands (`exit`, `help`, `clear`) ask of the terminal reader."""

    def __init__(self):
        self.history = [""]
        self.scheduled_commands = []

    def suspend_history(self):
        return _Nothing()

    suspend_colorization = suspend_history

    def prepare(self):
        pass

    refresh = restore = prepare

    def do_cmd(self, command):
        pass


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _run_pyrepl(transcript, simple_interact, package, main_module):
    """Start PyREPL the way this interpreter starts it at a terminal, minus the terminal."""
    reader = _NoTerminal()
    warnings = sys.modules["warnings"]  # imported by the REPL's own readline module

    def multiline_input(more_lines, ps1, ps2):
        # The terminal reader's Enter: with the cursor at the end of the
        # buffer, it accepts the input unless more_lines() asks for another
        # line. The real one reads with warnings ignored, as here.
        if sys.implementation.name == "pypy":
            # PyPy's terminal reader asks platform.system() each time it prepares
            # to read (pyrepl/unix_console.py); that imports subprocess and more.
            sys.modules["platform"].system()
        with warnings.catch_warnings(action="ignore"):
            text = transcript.next_line()
            if text is None:
                raise EOFError
            while more_lines(text):
                line = transcript.next_line()
                if line is None:
                    raise EOFError
                text += "\n" + line
        reader.history.append(text)
        return text

    simple_interact.multiline_input = multiline_input
    simple_interact._get_reader = lambda: reader
    simple_interact.check = lambda: ""
    if hasattr(simple_interact, "append_history_file"):
        simple_interact.append_history_file = lambda *args: None
    main = __import__(package + ".main", fromlist=["x"])
    main.CAN_USE_PYREPL = True  # what main decides on import when stdin is a terminal
    if sys.implementation.name == "pypy":
        __import__("_pypy_interact")  # PyPy's app_main starts its REPL through it
        main.interactive_console(main_module)
    elif sys.version_info[:2] == (3, 13):
        # 3.13 runs the package as __main__ through runpy, which leaves
        # __file__, __cached__ and __package__ in the REPL's namespace.
        __import__("runpy")._run_module_as_main(package, False)
    else:
        main.interactive_console(main_module)


def _run_code_console(transcript, namespace):
    # PyPy's basic REPL (lib_pypy/_pypy_interact.py) is code.InteractiveConsole.
    import code

    import _pypy_interact  # noqa: F401 (loaded at a real prompt too)

    console = code.InteractiveConsole(namespace, filename="<stdin>")
    while True:
        line = transcript.next_line()
        if line is None:
            return
        console.push(line)


_PyCF_ONLY_AST = 0x400
_PyCF_DONT_IMPLY_DEDENT = 0x200
_PyCF_ALLOW_INCOMPLETE_INPUT = 0x4000
_INCOMPLETE_OK = _PyCF_DONT_IMPLY_DEDENT | _PyCF_ALLOW_INCOMPLETE_INPUT


class _Overheard:
    """sys.stderr, where compile-time warnings print, sent to a buffer for a while."""

    def __enter__(self):
        self.real, sys.stderr = sys.stderr, __import__("io").StringIO()  # io is loaded at start-up
        return self

    def __exit__(self, *exc_info):
        self.text = sys.stderr.getvalue()
        sys.stderr = self.real


def _state(source, flags):
    """('complete' | 'incomplete' | 'empty' | 'error', warned): codeop's decision for the C read loop.

    The tries are repeated as lines arrive, where the C loop tokenizes each line
    once, so their warnings are not printed: the compile that runs the input
    prints them. `warned` says whether there were any. (Silencing them through
    the warnings filters instead would reset the warnings registries and repeat
    runtime warnings a real prompt shows once.) The tries compile to code, never
    to a Python AST: the C loop never creates the ast module's types, whose
    start-up holds references that sys.getrefcount(None) would count.
    """
    if all(not line.strip() or line.strip().startswith("#") for line in source.split("\n")):
        return "empty", False
    with _Overheard() as heard:
        try:
            compile(source, "<stdin>", "single", flags | _INCOMPLETE_OK, True)
            state = "complete"
        except SyntaxError:
            state = None
        except (OverflowError, ValueError):
            state = "error"
        if state is None:
            try:
                compile(source + "\n", "<stdin>", "single", flags | _INCOMPLETE_OK, True)
                state = "incomplete"
            except SyntaxError as error:
                state = "incomplete" if "incomplete input" in str(error) else "error"
            except (OverflowError, ValueError):
                state = "error"
    return state, bool(heard.text)


def _compile_input(source, flags, filename, warned):
    """The code of a complete input, its warnings printed as the C loop prints them.

    The C loop's tokenizer names what it reads "<stdin>" and its compiler names
    the code `filename` ("<stdin-N>" from 3.13). When the two agree, or the
    input warns of nothing, one compile says it all; otherwise the parse (its
    warnings under "<stdin>") and the compile (its own) are done apart, through
    an AST: only then, and only on the inputs that warn, does the ast module start.
    """
    if warned and filename != "<stdin>":
        tree = compile(source + "\n", "<stdin>", "single", flags | _PyCF_ONLY_AST, True)
        return compile(tree, filename, "single", flags, True)
    return compile(source + "\n", filename, "single", flags, True)


def _input_names():
    """How CPython's basic REPL names each input's code: None up to 3.12 ("<stdin>" for all).

    From 3.13 the C read loop gives input N the filename "<stdin>-N" (3.13.0)
    or "<stdin-N>" (later), registers its text with linecache so tracebacks
    show source lines, and the traceback module prints it as "<stdin>". Which
    spelling this interpreter uses is read off its traceback module's source,
    without importing it (a prompt imports it only at its first traceback).
    """
    if sys.implementation.name != "cpython" or sys.version_info < (3, 13):
        return None
    try:
        with open(os.path.join(os.path.dirname(os.__file__), "traceback.py"), encoding="utf-8") as handle:
            dashed = '"<stdin>-"' in handle.read()
    except OSError:
        dashed = False
    return "<stdin>-%d" if dashed else "<stdin-%d>"


def _run_basic(transcript, namespace):
    """The C read loop of CPython's basic REPL: read lines until an input is complete, run it."""
    flags = 0
    buffer = []
    names, count = _input_names(), 0
    while True:
        line = transcript.next_line()
        if line is None:
            return
        buffer.append(line)
        source = "\n".join(buffer)
        state, warned = _state(source, flags)
        if state == "incomplete":
            continue
        buffer = []
        if state == "empty":  # an empty Enter or a comment: a complete input that does nothing
            count += 1
            continue
        # The compiler's warnings name the input as the C loop does ("<stdin-N>" from 3.13).
        filename = "<stdin>" if names is None else names % count
        try:
            code = _compile_input(source, flags, filename, warned)
        except (OverflowError, SyntaxError, ValueError) as error:
            if isinstance(error, SyntaxError):
                error.filename = "<stdin>"  # the C loop reports what it could not parse as <stdin>
            _show(sys.exc_info(), None)  # like the REPL: no traceback header, only the caret display
            continue
        count += 1
        if names is not None:
            import linecache

            # 3.13.0's linecache files the text under the name; later ones under the code object.
            key = code if hasattr(linecache, "_interactive_cache") else filename
            linecache._register_code(key, source + "\n", filename)
        try:
            exec(code, namespace)
        except SystemExit:
            raise
        except BaseException:
            _show(sys.exc_info(), 1)
        flags |= code.co_flags & _future_flags()
        code = None  # the C loop drops each input's code once it has run


def _future_flags():
    # `from __future__ import x` in one input applies to later ones (codeop does
    # the same); only look __future__ up when an input actually imported it.
    future = sys.modules.get("__future__")
    if future is None:
        return 0
    flags = 0
    for name in future.all_feature_names:
        flags |= getattr(future, name).compiler_flag
    return flags


def _show(info, skip_frames):
    # Mirrors what the C loop does: record sys.last_* and hand over to
    # sys.excepthook, dropping this worker's frame so the traceback starts at the input.
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
    if value is not None:
        value = value.with_traceback(tb)  # the hook prints value.__traceback__
    sys.excepthook(typ, value, tb)


_ATOMS = (int, float, complex, str, bytes, type(None))
_NODE_LIMIT = 30  # objects in one diagram; past it the walk stops expanding
_ITEM_LIMIT = 8  # items of one container shown


def _label(obj):
    """Short text for an object drawn as a single box."""
    if isinstance(obj, _ATOMS):  # bool is an int
        text = repr(obj)
    elif isinstance(obj, type):
        text = "class " + obj.__qualname__
    elif callable(obj) and hasattr(obj, "__qualname__"):
        text = obj.__qualname__ + "()"
    else:
        text = type(obj).__name__
    return text if len(text) <= 28 else text[:27] + "\u2026"


def _draw(names, namespace, path):
    """Write the structure the named objects form: nodes in order of first visit, never by id()."""
    import json
    import weakref

    nodes, seen = [], {}

    def visit(obj):
        key = id(obj)
        if key in seen:
            return seen[key]
        number = seen[key] = len(nodes)
        node = {"type": type(obj).__name__, "label": _label(obj), "edges": []}
        nodes.append(node)
        if len(nodes) > _NODE_LIMIT or isinstance(obj, _ATOMS):
            return number
        if isinstance(obj, weakref.ref):
            target = obj()
            node["edges"].append(["referent", None if target is None else visit(target), "weak"])
        elif isinstance(obj, (list, tuple)):
            for index, item in enumerate(obj[:_ITEM_LIMIT]):
                node["edges"].append([str(index), visit(item), "item"])
            node["more"] = max(len(obj) - _ITEM_LIMIT, 0)
        elif isinstance(obj, dict):
            for name, item in list(obj.items())[:_ITEM_LIMIT]:
                node["edges"].append([_label(name), visit(item), "item"])
            node["more"] = max(len(obj) - _ITEM_LIMIT, 0)
        elif isinstance(obj, (set, frozenset)):
            for item in list(obj)[:_ITEM_LIMIT]:
                node["edges"].append(["", visit(item), "item"])
            node["more"] = max(len(obj) - _ITEM_LIMIT, 0)
        elif (
            not isinstance(obj, type)
            and not callable(obj)
            and isinstance(getattr(obj, "__dict__", None), dict)
        ):
            for name, item in list(vars(obj).items())[:_ITEM_LIMIT]:
                node["edges"].append([name, visit(item), "attribute"])
        return number

    roots = [[name, visit(namespace[name]) if name in namespace else None] for name in names]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"names": roots, "nodes": nodes}, handle)


def run_session(inputs, mark):
    """Type `inputs` (each a "\n"-separated input) into this interpreter's own REPL.

    mark(index, status) is called once per input, in order, when everything
    it printed has been flushed; SystemExit from an input ends the session
    (marked "exit") and propagates, as at a real prompt. Returns the REPL's
    namespace. Used by the engine's runs (_serve) and by the in-browser
    "Edit and run" panel, which runs this file in Pyodide.
    """
    transcript = _Transcript(inputs, mark)
    # What a fresh interactive interpreter has that `python -c` lacks.
    sys.argv[:] = [""]
    if sys.implementation.name == "pypy":
        sys.ps1, sys.ps2 = ">>>> ", ".... "
    else:
        sys.ps1, sys.ps2 = ">>> ", "... "
    hook = getattr(sys, "__interactivehook__", None)
    if hook is not None:
        try:
            hook()
        except Exception:
            pass  # PyPy's wants a terminal's capabilities; at a real prompt it has them
    main_module = sys.modules["__main__"]
    namespace = main_module.__dict__
    try:
        found = _pyrepl()
        if found is not None:
            _run_pyrepl(transcript, found[0], found[1], main_module)
        elif sys.implementation.name == "pypy":
            _run_code_console(transcript, namespace)
        else:
            _run_basic(transcript, namespace)
    except SystemExit:
        transcript.finish("exit")
        raise
    transcript.finish()
    return namespace


def _serve():
    inputs_path, results_path = sys.argv[1], sys.argv[2]
    drawing_path, names = (sys.argv[3], sys.argv[4:]) if len(sys.argv) > 3 else (None, [])
    with open(inputs_path, encoding="utf-8") as handle:
        inputs = handle.read().split("\0")
    results = open(results_path, "w", encoding="utf-8")
    os.set_inheritable(results.fileno(), False)

    def mark(index, status):
        # stdout and stderr share one file: its size is where this input's output ends.
        results.write("%d %d %s\n" % (index, os.fstat(1).st_size, status))
        results.flush()

    namespace = run_session(inputs, mark)
    if names:
        # After the last input: nothing imported here reaches a recorded output.
        _draw(names, namespace, drawing_path)


if __name__ == "_snippet_worker":  # as the engine starts it; imported elsewhere, it only defines
    _serve()
