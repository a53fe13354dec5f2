"""The shared serial line: how late this host wakes a reader, measured on the line."""

from dut_drivers.uart import UartLink


def test_host_latency_is_measured_on_idle_waits():
    link = UartLink("loop://", timeout_s=0.5)
    try:
        late = link.host_latency(waits=5, wait_s=0.002)
        assert len(late) == 5 and all(x >= 0 for x in late)
        assert link._serial.timeout == 0.5  # the exchange timeout is back in force
        link._serial.write(b"x")  # a stray byte on the line is no sample, but is logged
        assert len(link.host_latency(waits=3, wait_s=0.002)) == 2
    finally:
        link.close()
