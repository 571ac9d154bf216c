#!/usr/bin/env python3
"""Man pages from the binary's own --help (so they say what the code does):
snilb.8 from `snilb --help`, snilb-CMD.8 from `snilb CMD --help` for each
command it lists. Usage: mkman.py SNILB OUTDIR VERSION DATE"""
import os
import re
import subprocess
import sys

exe, out, version, date = sys.argv[1:5]
FILES = ["/etc/snilb", "/etc/default/snilb", "/run/snilb/status.json",
         "/sys/fs/bpf/snilb"]


def helptext(*args):
    r = subprocess.run([exe, *args, "--help"], capture_output=True, text=True)
    return (r.stdout or r.stderr).rstrip("\n")


def esc(line):
    line = line.replace("\\", "\\e").replace("-", "\\-")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def page(name, summary, text, see):
    usage, _, rest = text.partition("\n\n")
    lines = [".TH %s 8 \"%s\" \"snilb %s\" \"System Administration\""
             % (name.upper(), date, version),
             ".SH NAME", "%s \\- %s" % (esc(name), esc(summary)),
             ".SH SYNOPSIS", ".nf"]
    lines += [esc(re.sub(r"^Usage: ", "", l.strip()))
              for l in usage.splitlines() if l.strip()]
    lines += [".fi", ".SH DESCRIPTION",
              "The text of \\fB%s \\-\\-help\\fR." % esc(name.replace("-", " ")),
              ".PP", ".nf"]
    for l in rest.splitlines():
        lines.append(esc(l) if l.strip() else "")
    lines += [".fi", ".SH FILES", ".nf"] + [esc(f) for f in FILES] + [".fi",
              ".SH SEE ALSO", ", ".join("\\fB%s\\fR(8)" % esc(s) for s in see),
              ""]
    # blank lines inside .nf are fine for groff but lintian prefers .sp
    body = "\n".join(".sp" if l == "" else l for l in lines[:-1]) + "\n"
    with open(os.path.join(out, name + ".8"), "w") as f:
        f.write(body)


top = helptext()
cmds = []
block = top.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
for l in block.splitlines():
    m = re.match(r"^  (\S+)(?: \S+)*\s{2,}(.*)$", l)
    if m:
        cmds.append([m.group(1), m.group(2)])
    elif cmds and l.startswith("   "):	# the summary goes on
        cmds[-1][1] += " " + l.strip()
cmds = [(c, s) for c, s in cmds if c not in ("help", "version")]
names = ["snilb-" + c for c, _ in cmds]
page("snilb", "TLS routing by SNI in the Linux kernel (eBPF)", top, names)
for c, s in cmds:
    text = helptext(c)
    if not text.startswith("Usage:"):
        sys.exit("mkman: 'snilb %s --help' printed no usage" % c)
    # the summary: the command's line of `snilb --help`, its continuation
    # lines joined
    page("snilb-" + c, s or c, text, ["snilb"] + [n for n in names if n != "snilb-" + c])
print(" ".join(["snilb"] + names))
