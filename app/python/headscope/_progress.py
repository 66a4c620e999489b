"""A progress bar on stderr for headscope.analyze(progress=True)."""
import sys


def stderr_progress(label):
    last = [-1]

    def report(fraction, message):
        percent = int(fraction * 100 + 0.5)
        if percent == last[0]:
            return
        last[0] = percent
        width = 30
        filled = max(0, min(width, percent * width // 100))
        end = "\n" if percent >= 100 else ""
        sys.stderr.write(f"\r[{label}] [{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {message[:40]:<40}{end}")
        sys.stderr.flush()

    return report
