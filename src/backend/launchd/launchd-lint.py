#!/usr/bin/env python3
"""Structural lint of launchd job plists on Linux (no launchd here); embedded in openim-init
(`verify --backend launchd`), from the backends lab's plist-lint.py.
Checks: parses as a plist (XML or binary), top level is a dict, Label present, Program or ProgramArguments
present, every key is a documented launchd.plist(5) key, value types match the man page, and the file is
named LABEL.plist (what launchctl and openim-init expect).
usage: launchd-lint.py FILE.plist...   one `FILE: OK` or `FILE: problems` line each; exit 1 if any problem."""
import os, plistlib, sys

S, B, I, D, A = str, bool, int, dict, list
# key -> allowed python types (from launchd.plist(5), Darwin launchd man page)
KEYS = {
 "Label": (S,), "Disabled": (B,), "UserName": (S,), "GroupName": (S,), "inetdCompatibility": (D,),
 "LimitLoadToHosts": (A,), "LimitLoadFromHosts": (A,), "LimitLoadToSessionType": (S, A),
 "LimitLoadToHardware": (D,), "LimitLoadFromHardware": (D,),
 "Program": (S,), "ProgramArguments": (A,), "EnableGlobbing": (B,), "EnableTransactions": (B,),
 "EnablePressuredExit": (B,), "OnDemand": (B,), "KeepAlive": (B, D), "RunAtLoad": (B,),
 "RootDirectory": (S,), "WorkingDirectory": (S,), "EnvironmentVariables": (D,), "Umask": (I, S),
 "TimeOut": (I,), "ExitTimeOut": (I,), "ThrottleInterval": (I,), "InitGroups": (B,),
 "WatchPaths": (A,), "QueueDirectories": (A,), "StartOnMount": (B,), "StartInterval": (I,),
 "StartCalendarInterval": (D, A), "StandardInPath": (S,), "StandardOutPath": (S,),
 "StandardErrorPath": (S,), "Debug": (B,), "WaitForDebugger": (B,), "SoftResourceLimits": (D,),
 "HardResourceLimits": (D,), "Nice": (I,), "ProcessType": (S,), "LegacyTimers": (B,),
 "AbandonProcessGroup": (B,), "LowPriorityIO": (B,), "LowPriorityBackgroundIO": (B,),
 "MaterializeDatalessFiles": (B,), "LaunchOnlyOnce": (B,), "MachServices": (D,), "Sockets": (D,),
 "LaunchEvents": (D,), "SessionCreate": (B,), "AssociatedBundleIdentifiers": (S, A),
}
KEEPALIVE = {"SuccessfulExit": (B,), "NetworkState": (B,), "PathState": (D,), "OtherJobEnabled": (D,),
             "Crashed": (B,), "AfterInitialDemand": (B, D)}
RLIMITS = {"Core", "CPU", "Data", "FileSize", "MemoryLock", "NumberOfFiles", "NumberOfProcesses",
           "ResidentSetSize", "Stack"}
PROCESSTYPES = {"Background", "Standard", "Adaptive", "Interactive"}

def tname(ts): return "/".join(t.__name__ for t in ts)

def lint(path):
    errs = []
    try:
        with open(path, "rb") as f:
            pl = plistlib.load(f)
    except Exception as e:
        return ["not a valid plist: %s" % e]
    if not isinstance(pl, dict):
        return ["top level is %s, not dict" % type(pl).__name__]
    for k, v in pl.items():
        if k not in KEYS:
            errs.append("unknown key %r" % k); continue
        # bool is a subclass of int in Python: do not accept True for an <integer> key
        if not isinstance(v, KEYS[k]) or (isinstance(v, bool) and B not in KEYS[k]):
            errs.append("%s: expected %s, got %s" % (k, tname(KEYS[k]), type(v).__name__))
    if not isinstance(pl.get("Label"), str) or not pl.get("Label"):
        errs.append("missing required Label <string>")
    pa = pl.get("ProgramArguments")
    if "Program" not in pl and not pa:
        errs.append("need Program or a non-empty ProgramArguments")
    if isinstance(pa, list) and not all(isinstance(x, str) for x in pa):
        errs.append("ProgramArguments must be an array of strings")
    prog = pl.get("Program") or (pa[0] if isinstance(pa, list) and pa and isinstance(pa[0], str) else None)
    if prog and not prog.startswith("/"):
        errs.append("warning-as-error: program %r is not absolute (launchd uses execvp with its own PATH)" % prog)
    ev = pl.get("EnvironmentVariables")
    if isinstance(ev, dict) and not all(isinstance(x, str) for x in ev.values()):
        errs.append("EnvironmentVariables values must be strings")
    ka = pl.get("KeepAlive")
    if isinstance(ka, dict):
        for k, v in ka.items():
            if k not in KEEPALIVE: errs.append("KeepAlive: unknown key %r" % k)
            elif not isinstance(v, KEEPALIVE[k]): errs.append("KeepAlive.%s: expected %s" % (k, tname(KEEPALIVE[k])))
    for rl in ("SoftResourceLimits", "HardResourceLimits"):
        for k, v in (pl.get(rl) or {}).items() if isinstance(pl.get(rl), dict) else []:
            if k not in RLIMITS or not isinstance(v, int) or isinstance(v, bool):
                errs.append("%s.%s invalid" % (rl, k))
    label = pl.get("Label")
    if isinstance(label, str) and label and os.path.basename(path) != label + ".plist":
        errs.append("file name is not %s.plist" % label)
    if "ProcessType" in pl and pl["ProcessType"] not in PROCESSTYPES:
        errs.append("ProcessType must be one of %s" % sorted(PROCESSTYPES))
    return errs

rc = 0
for p in sys.argv[1:]:
    e = lint(p)
    print("%s: %s" % (p, "OK" if not e else "; ".join(e)))
    rc |= bool(e)
sys.exit(rc)
