# Starts every run, one launcher per engine thread, never imported by the
# engine. Started as `python -I -S -c <this source> CONFIG_JSON`: as PID 1 of a
# bubblewrap sandbox where there is one, or (only when told the snippets are
# trusted) as a plain child of the engine.
#
# Setting up a sandbox cost about 7 ms per run, a quarter of an interpreter's
# start-up. This launcher lives in one sandbox for a whole session and starts
# each run there: still a fresh exec of the interpreter, in a freshly emptied
# directory, so nothing about the run itself changes (a forked copy of a warm
# interpreter would be another matter).
#
# Protocol, in both directions: one JSON line, then the byte strings it
# announces (request "blobs": sizes; reply "sizes": sizes, null for a name the
# run replaced by something else than a regular file).
#   {"op": "run", "layout": [["dir", name] | ["link", name, target] |
#    ["file", name, blob index]], "argv": [...], "cwd": name, "env": {...},
#    "output": name, "collect": [names], "timeout": seconds, "end": bool}
#   -> {"returncode": int or null on timeout, "seconds": float, "limit": null
#       or "memory" / "processes" / "disk", "collected": [[name, what]],
#       "sizes": [...]}   (what: null for the bytes that follow, else why not)
#   {"op": "end"} -> {"ok": true}: empty the run's directory now
# Any request may be answered {"error": str}; with "retry": true the request
# was not run and the launcher is exiting (it could not clean up).
#
# After every command it kills every process left in its PID namespace (one
# kill(-1), which also stops a fork bomb: the kernel sends it to all at once);
# a run cannot kill the launcher, which is that namespace's init. After the
# last command of a run (and before a run's first) it empties the run's
# directory, /dev/shm and /dev/mqueue and removes the System V IPC objects of
# its own IPC namespace: nothing a run leaves is seen by the next.

import ctypes
import errno
import json
import os
import resource
import signal
import stat
import sys
import time

_ADDR_NO_RANDOMIZE = 0x0040000
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_CLONE_NEWIPC = 0x08000000
_IPC_RMID = 0
_TICK = 0.02  # seconds between checks of a run's processes and memory, when no cgroup limits them
_TICK_DISK = 0.05  # seconds between checks that its files have not filled their space
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)

libc = ctypes.CDLL(None, use_errno=True)


class Stopped(Exception):
    pass


def configure(config):
    # Inherited by every run: limits, and no address-space randomisation so
    # id() is the same on every build of a machine.
    resource.setrlimit(resource.RLIMIT_AS, (config["memory"], config["memory"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_size"], config["file_size"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if config["nproc"]:
        # Counted per user namespace: in an unprivileged sandbox this is the
        # run's own count (root is exempt, hence the cgroup or the watch).
        resource.setrlimit(resource.RLIMIT_NPROC, (config["nproc"], config["nproc"]))
    libc.personality.argtypes = [ctypes.c_ulong]
    current = libc.personality(0xFFFFFFFF)
    libc.personality(current | _ADDR_NO_RANDOMIZE)
    # Not dumpable: runs (same user) cannot trace it or read its memory.
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if not config["pid_namespace"]:
        # Without a sandbox: die with the engine, and adopt what a run
        # detaches (setsid and a double fork) so it can be killed too.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if config["pid_namespace"]:
        return True  # bubblewrap gave the sandbox its own IPC namespace
    # An IPC namespace of its own, where root may make one; otherwise the
    # objects of a run cannot be told from anyone else's and are left alone.
    return os.geteuid() == 0 and libc.unshare(_CLONE_NEWIPC) == 0


# --- the run's directory ---------------------------------------------------


def wipe(dir_fd):
    """Remove everything under an open directory, without following links."""
    for name in os.listdir(dir_fd):
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            if info.st_mode & stat.S_IRWXU != stat.S_IRWXU:
                os.chmod(name, 0o700, dir_fd=dir_fd)  # a run may lock itself out; the owner may not
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            try:
                wipe(child)
            finally:
                os.close(child)
            os.rmdir(name, dir_fd=dir_fd)
        else:
            os.unlink(name, dir_fd=dir_fd)


def wipe_path(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        wipe(fd)
    finally:
        os.close(fd)


def remove_ipc():
    # Each object of this IPC namespace (only the run's: the namespace is the launcher's).
    calls = (("shm", libc.shmctl), ("sem", None), ("msg", libc.msgctl))
    for kind, call in calls:
        try:
            with open("/proc/sysvipc/" + kind) as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            ident = int(row.split()[1])
            if kind == "sem":
                libc.semctl(ident, 0, _IPC_RMID)
            else:
                call(ident, _IPC_RMID, None)


def lay_out(root_fd, layout, blobs):
    for entry in layout:
        kind, name = entry[0], entry[1]
        if kind == "dir":
            os.mkdir(name, 0o755, dir_fd=root_fd)
        elif kind == "link":
            os.symlink(entry[2], name, dir_fd=root_fd)
        else:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=root_fd)
            try:
                data = blobs[entry[2]]
                while data:
                    data = data[os.write(fd, data) :]
            finally:
                os.close(fd)


def read_capped(fd, cap):
    chunks, size = [], 0
    while size <= cap:
        chunk = os.pread(fd, min(1 << 16, cap + 1 - size), size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def collect(root_fd, name, cap):
    """Up to cap + 1 bytes of what the run left under name, or why there are none."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=root_fd)
    except FileNotFoundError:
        return b"", None
    except OSError as error:
        if error.errno == errno.ELOOP:
            return None, "a symbolic link"
        return None, "a file it may not read (%s)" % error.strerror
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return None, next((what for test, what in _KINDS if test(mode)), "not a regular file")
        return read_capped(fd, cap), None
    finally:
        os.close(fd)


# --- processes -------------------------------------------------------------


class Session:
    def __init__(self, config, own_ipc):
        self.config = config
        self.own_ipc = own_ipc
        self.root = config["root"]
        self.root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        self.sandboxed = config["pid_namespace"]
        self.dirty = False
        self.clean = False  # end() emptied everything and nothing ran since
        self.state = None  # the current command's: {"expired": bool, "limit": str or None}
        if self.sandboxed and os.getpid() != 1:
            raise SystemExit("the launcher must be PID 1 of its namespace")

    # Every process but this one. In the sandbox, kill(-1) reaches exactly the
    # run's processes, all at once; outside it, the launcher is a subreaper
    # and walks its descendants.
    def kill_all(self):
        if self.sandboxed:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            for pid in self.descendants():
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def descendants(self):
        parents = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open("/proc/%s/stat" % name, "rb") as handle:
                        fields = handle.read().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                parents.setdefault(int(fields[1]), []).append(int(name))
        found, todo = [], [os.getpid()]
        while todo:
            for child in parents.get(todo.pop(), ()):
                found.append(child)
                todo.append(child)
        return found

    def reap_all(self):
        """Kill and reap every process left; a process that will not die ends the launcher."""
        deadline = time.monotonic() + 5.0
        while True:
            self.kill_all()
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                if self.sandboxed or not self.descendants():
                    return
                pid = 0
            if pid == 0:
                if time.monotonic() > deadline:
                    raise Stopped("a process of the run would not die")
                time.sleep(0.001)

    def watch(self):
        """A limit the run's processes are over (no cgroup here), or None."""
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and name != "1"]
        processes = self.config["watch_processes"]
        if processes and len(pids) >= processes:
            return "processes"
        memory = self.config["watch_memory"]
        if memory:
            pages = 0
            for pid in pids:
                try:
                    with open("/proc/%d/statm" % pid, "rb") as handle:
                        pages += int(handle.read().split()[1])
                except (OSError, IndexError, ValueError):
                    continue
            if pages * resource.getpagesize() > memory:
                return "memory"
        return None

    def full(self):
        if not self.sandboxed:
            return False
        for path in (self.root, "/dev/shm"):
            try:
                info = os.statvfs(path)
            except OSError:
                continue
            if info.f_bavail * info.f_frsize < (1 << 20):
                return True
        return False

    def output_file(self):
        """The run's stdout and stderr: a file without a name, where the run's own files cannot
        crowd it out (in the sandbox, a tmpfs of its own); only the launcher can read it back."""
        where = self.config["output_dir"]
        try:
            return os.open(where, os.O_RDWR | os.O_TMPFILE, 0o600)
        except OSError:
            name = "%s/.output-%d" % (where, os.getpid())
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            os.unlink(name)
            return fd

    # --- requests -------------------------------------------------------------

    def end(self):
        """Empty everything a run could write; if that cannot be done, the next request is refused."""
        self.clean = False
        try:
            wipe(self.root_fd)
            if self.sandboxed:
                for path in ("/dev/shm", "/dev/mqueue", self.config["output_dir"]):
                    wipe_path(path)
            if self.own_ipc:
                remove_ipc()
            if os.listdir(self.root_fd):
                raise OSError("the run's directory is not empty")
        except OSError as error:
            self.dirty = "could not empty the run's directory (%s)" % error
        else:
            self.clean = True

    def run(self, request, blobs):
        timeout = float(request["timeout"])
        if not 0 < timeout < 1e6:
            return {"error": "timeout %r is not a number of seconds" % request["timeout"]}, []
        if request.get("layout"):
            if not self.clean:  # usually emptied already, after the last run's reply
                self.end()
                if self.dirty:
                    return {"error": self.dirty, "retry": True}, []
            lay_out(self.root_fd, request["layout"], blobs)
        self.clean = False
        cap = self.config["file_size"]
        output = self.output_file()
        try:
            returncode, seconds, limit = self.start(request, output)
            # What was written to the run's stdout, read from the launcher's own
            # descriptor: renaming or replacing the file changes nothing.
            files = [(request["output"], read_capped(output, cap), None)]
        finally:
            os.close(output)
        for name in request.get("collect", ()):
            data, why = collect(self.root_fd, name, cap)
            files.append((name, data, why))
        if limit is None and self.full():
            limit = "disk"
        reply = {
            "returncode": returncode,
            "seconds": seconds,
            "limit": limit,
            "collected": [[name, why] for name, _, why in files],
            "sizes": [len(data) for _, data, why in files if why is None],
        }
        return reply, [data for _, data, why in files if why is None]

    def start(self, request, output):
        cwd = os.open(request["cwd"], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=self.root_fd)
        stdin = os.open("/dev/null", os.O_RDONLY)
        start = time.monotonic()
        try:
            os.fchdir(cwd)
            try:
                child = os.posix_spawn(
                    request["argv"][0],
                    request["argv"],
                    request["env"],
                    file_actions=[
                        (os.POSIX_SPAWN_DUP2, stdin, 0),
                        (os.POSIX_SPAWN_DUP2, output, 1),
                        (os.POSIX_SPAWN_DUP2, output, 2),
                    ],
                    setsid=True,
                )
            except OSError as error:
                raise Stopped("could not start %s: %s" % (request["argv"][0], error.strerror)) from None
            finally:
                os.chdir("/")
        finally:
            os.close(cwd)
            os.close(stdin)
        # The run is the first process the kernel's (or a cgroup's) OOM killer picks.
        try:
            with open("/proc/%d/oom_score_adj" % child, "w") as handle:
                handle.write("1000")
        except OSError:
            pass
        self.state = state = {"expired": False, "limit": None}
        deadline = start + float(request["timeout"])
        watching = bool(self.config["watch_processes"] or self.config["watch_memory"])

        def tick(signum, frame):
            if state["expired"] or state["limit"]:
                return
            if time.monotonic() >= deadline:
                state["expired"] = True
            else:
                state["limit"] = (self.watch() if watching else None) or ("disk" if self.full() else None)
            if state["expired"] or state["limit"]:
                self.kill_all()

        signal.signal(signal.SIGALRM, tick)
        interval = _TICK if watching else _TICK_DISK
        signal.setitimer(signal.ITIMER_REAL, min(interval, max(deadline - time.monotonic(), 0.001)), interval)
        try:
            # A blocking wait (retried after the alarm's handler) notices the
            # exit at once. Orphans of the run are reaped on the way.
            while True:
                pid, status = os.waitpid(-1, 0)
                if pid == child:
                    break
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.state = None
        seconds = time.monotonic() - start
        self.reap_all()
        code = os.waitstatus_to_exitcode(status)
        return (None if state["expired"] else code), seconds, state["limit"]

    def stop_run(self, signum, frame):
        """SIGUSR1 from the engine: the run's cgroup says it went over a limit."""
        state = self.state
        if state is not None and not state["limit"]:
            state["limit"] = "cgroup"
            self.kill_all()


def read_message(stream):
    line = stream.readline()
    if not line:
        return None, []
    message = json.loads(line)
    return message, [stream.read(size) for size in message.get("blobs", ())]


def main():
    config = json.loads(sys.argv[1])
    session = Session(config, configure(config))
    signal.signal(signal.SIGUSR1, session.stop_run)
    if not session.sandboxed:
        # The engine is stopping: take the runs along (in the sandbox, its end does).
        def terminate(signum, frame):
            session.kill_all()
            os._exit(1)

        signal.signal(signal.SIGTERM, terminate)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        request, blobs = read_message(stdin)
        if request is None:
            return
        payload = []
        try:
            if session.dirty:
                reply = {"error": session.dirty, "retry": True}
            elif request["op"] == "run":
                reply, payload = session.run(request, blobs)
            else:
                session.end()
                reply = {"ok": not session.dirty}
        except Stopped as failure:
            reply = {"error": str(failure)}
        except Exception as error:  # one bad request fails alone; the launcher goes on
            reply = {"error": "%s: %s" % (type(error).__name__, error)}
        try:
            session.reap_all()
        except Stopped as failure:
            session.dirty = str(failure)
        stdout.write(json.dumps(reply).encode() + b"\n")
        for data in payload:
            stdout.write(data)
        stdout.flush()
        if request.get("end") or "error" in reply:
            session.end()  # after the reply: the engine reads the results meanwhile
        if session.dirty and reply.get("retry"):
            return


main()
