#include "accel/npu/process_hardware.h"

namespace npusim {

// Built with the default DRAM and DMA; every user configures them for its run.
ProcessHardware::ProcessHardware()
    : dram("dram", DramConfig{}),
      dma("dma", 4096, DramConfig{}.peak_bandwidth_gbps()),
      traffic("dram_traffic"),
      netlist(process_netlist()) {
  dma.socket.bind(dram.socket);
  traffic.socket.bind(dram.socket);
}

ProcessHardware& process_hardware() {
  static ProcessHardware hardware;
  return hardware;
}

}  // namespace npusim
