#include "accel/memory/dram_backing_store.h"

#include <algorithm>
#include <cstring>

namespace npusim {

void DramBackingStore::read(std::uint64_t address, std::uint8_t* out, std::uint64_t bytes) const {
  while (bytes > 0) {
    const std::uint64_t offset = address % kPageBytes;
    const std::uint64_t chunk = std::min(bytes, kPageBytes - offset);
    const auto page = pages_.find(address / kPageBytes);
    if (page == pages_.end()) {
      std::memset(out, 0, chunk);
    } else {
      std::memcpy(out, page->second->data() + offset, chunk);
    }
    address += chunk;
    out += chunk;
    bytes -= chunk;
  }
}

void DramBackingStore::write(std::uint64_t address, const std::uint8_t* in, std::uint64_t bytes) {
  while (bytes > 0) {
    const std::uint64_t offset = address % kPageBytes;
    const std::uint64_t chunk = std::min(bytes, kPageBytes - offset);
    std::unique_ptr<Page>& page = pages_[address / kPageBytes];
    if (!page) page = std::make_unique<Page>();  // value-initialised: zeros
    std::memcpy(page->data() + offset, in, chunk);
    address += chunk;
    in += chunk;
    bytes -= chunk;
  }
}

}  // namespace npusim
