"""Peak RSS of a child process: its VmHWM (/proc/<pid>/status), polled while it runs.

Not the child's ru_maxrss from wait4: Linux carries a parent's RSS high-water mark across fork
and exec, so every child of a large Python process reports at least the parent's RSS (a bench
that has read a GGUF with the gguf package reported 550 MiB for a gavel run that peaked at
446). VmHWM belongs to the child's own address space since its exec; the last reading before
it exits is its peak up to the polling interval.
"""
import threading


class PeakRss:
    def __init__(self, pid, interval=0.005):
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _read(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None  # gone, or a zombie without an address space

    def _poll(self):
        while not self._stop.is_set():
            kib = self._read()
            if kib is None:
                return
            self.peak_kib = max(self.peak_kib, kib)
            self._stop.wait(self.interval)

    def bytes(self):
        """Stops polling (call once the process has exited) and returns the peak in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak_kib * 1024
