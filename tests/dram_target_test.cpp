// The DRAM as a TLM-2.0 target: a tiny LT initiator writes, reads back, and
// sends requests the target must reject. SystemC elaborates one design per
// process, so the simulation runs in a forked child that sends its observations
// back through a pipe: the test process itself never elaborates, and other
// SystemC tests in the same binary still can.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <numeric>
#include <optional>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_presets.h"
#include "accel/memory/dram_target.h"

namespace npusim {
namespace {

struct Outcome {
  tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
  std::int64_t start_ps = 0;  // sc_time_stamp() when the call was made
  std::int64_t delay_in_ps = 0;
  std::int64_t delay_out_ps = 0;
  std::vector<std::uint8_t> data;
};

std::int64_t ps(const sc_core::sc_time& t) { return static_cast<std::int64_t>(t.to_seconds() * 1e12 + 0.5); }

class TestInitiator : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<TestInitiator> socket;
  std::vector<Outcome> outcomes;
  unsigned debug_bytes = 0;
  std::vector<std::uint8_t> debug_data;

  SC_HAS_PROCESS(TestInitiator);
  explicit TestInitiator(sc_core::sc_module_name name) : sc_core::sc_module(name), socket("socket") { SC_THREAD(run); }

 private:
  Outcome transport(tlm::tlm_command command, std::uint64_t address, std::vector<std::uint8_t> data,
                    sc_core::sc_time delay, bool sync, unsigned streaming_width = 0,
                    std::uint8_t* byte_enables = nullptr) {
    tlm::tlm_generic_payload payload;
    payload.set_command(command);
    payload.set_address(address);
    payload.set_data_ptr(data.data());
    payload.set_data_length(static_cast<unsigned>(data.size()));
    payload.set_streaming_width(streaming_width == 0 ? static_cast<unsigned>(data.size()) : streaming_width);
    payload.set_byte_enable_ptr(byte_enables);
    payload.set_byte_enable_length(byte_enables == nullptr ? 0 : 4);
    payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    Outcome o;
    o.start_ps = ps(sc_core::sc_time_stamp());
    o.delay_in_ps = ps(delay);
    socket->b_transport(payload, delay);
    o.delay_out_ps = ps(delay);
    o.status = payload.get_response_status();
    o.data = std::move(data);
    if (sync) wait(delay);
    return o;
  }

  void run() {
    std::vector<std::uint8_t> pattern(256);
    std::iota(pattern.begin(), pattern.end(), std::uint8_t{1});
    // 0: write 256 B at 0; 1: read it back; 2: read never-written memory with a
    // 10 ns annotated delay (temporal decoupling, no wait before the call).
    outcomes.push_back(transport(tlm::TLM_WRITE_COMMAND, 0, pattern, sc_core::SC_ZERO_TIME, true));
    outcomes.push_back(
        transport(tlm::TLM_READ_COMMAND, 0, std::vector<std::uint8_t>(256), sc_core::SC_ZERO_TIME, true));
    outcomes.push_back(transport(tlm::TLM_READ_COMMAND, std::uint64_t{1} << 24, std::vector<std::uint8_t>(64, 0xAA),
                                 sc_core::sc_time(10, sc_core::SC_NS), true));
    // 3..5: rejected requests; the delay must come back untouched.
    std::array<std::uint8_t, 4> enables{0xFF, 0, 0xFF, 0};
    outcomes.push_back(transport(tlm::TLM_READ_COMMAND, 0, std::vector<std::uint8_t>(4), sc_core::SC_ZERO_TIME, false,
                                 0, enables.data()));
    outcomes.push_back(
        transport(tlm::TLM_WRITE_COMMAND, 0, std::vector<std::uint8_t>(64), sc_core::SC_ZERO_TIME, false, 8));
    const std::uint64_t capacity = std::uint64_t{8} << 30;
    outcomes.push_back(
        transport(tlm::TLM_READ_COMMAND, capacity - 32, std::vector<std::uint8_t>(64), sc_core::SC_ZERO_TIME, false));
    // Debug transport: data with no time.
    debug_data.assign(16, 0);
    tlm::tlm_generic_payload dbg;
    dbg.set_command(tlm::TLM_READ_COMMAND);
    dbg.set_address(16);
    dbg.set_data_ptr(debug_data.data());
    dbg.set_data_length(16);
    dbg.set_streaming_width(16);
    debug_bytes = socket->transport_dbg(dbg);
  }
};

// What the child saw, flattened for the pipe.
struct Observed {
  std::vector<Outcome> outcomes;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t allocated_bytes = 0;
  unsigned debug_bytes = 0;
  std::vector<std::uint8_t> debug_data;
};

class Wire {
 public:
  template <typename T>
  void put(const T& value) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_bytes(const std::vector<std::uint8_t>& v) {
    put(v.size());
    bytes_.insert(bytes_.end(), v.begin(), v.end());
  }
  template <typename T>
  T get() {
    T value{};
    if (read_ + sizeof(T) <= bytes_.size()) std::memcpy(&value, bytes_.data() + read_, sizeof(T));
    read_ += sizeof(T);
    return value;
  }
  std::vector<std::uint8_t> get_bytes() {
    const auto n = get<std::size_t>();
    std::vector<std::uint8_t> v;
    if (read_ + n <= bytes_.size()) v.assign(bytes_.begin() + read_, bytes_.begin() + read_ + n);
    read_ += n;
    return v;
  }
  std::vector<std::uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t read_ = 0;
};

void simulate_and_send(const DramConfig& config, int fd) {
  TestInitiator initiator("initiator");
  DramTarget dram("dram", config);
  initiator.socket.bind(dram.socket);
  sc_core::sc_start();
  Wire wire;
  wire.put(initiator.outcomes.size());
  for (const Outcome& o : initiator.outcomes) {
    wire.put(o.status);
    wire.put(o.start_ps);
    wire.put(o.delay_in_ps);
    wire.put(o.delay_out_ps);
    wire.put_bytes(o.data);
  }
  wire.put(dram.model().stats().bytes_read);
  wire.put(dram.model().stats().bytes_written);
  wire.put(dram.store().allocated_bytes());
  wire.put(initiator.debug_bytes);
  wire.put_bytes(initiator.debug_data);
  const std::uint8_t* p = wire.bytes().data();
  std::size_t left = wire.bytes().size();
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// Runs the design in a child process; nullopt (with a test failure) if it died.
std::optional<Observed> run_in_child(const DramConfig& config) {
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe() failed";
    return std::nullopt;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    // The child must never return into the test runner: it would go on to run
    // the rest of the suite.
    close(fds[0]);
    int code = 0;
    try {
      simulate_and_send(config, fds[1]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "SystemC child: %s\n", e.what());
      code = 2;
    } catch (...) {
      code = 3;
    }
    close(fds[1]);
    _exit(code);
  }
  if (pid < 0) {
    ADD_FAILURE() << "fork() failed";
    return std::nullopt;
  }
  close(fds[1]);
  Wire wire;
  std::uint8_t buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) {
    wire.bytes().insert(wire.bytes().end(), buffer, buffer + n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "the SystemC child process failed (status " << status << ")";
    return std::nullopt;
  }
  Observed seen;
  seen.outcomes.resize(wire.get<std::size_t>());
  for (Outcome& o : seen.outcomes) {
    o.status = wire.get<tlm::tlm_response_status>();
    o.start_ps = wire.get<std::int64_t>();
    o.delay_in_ps = wire.get<std::int64_t>();
    o.delay_out_ps = wire.get<std::int64_t>();
    o.data = wire.get_bytes();
  }
  seen.bytes_read = wire.get<std::uint64_t>();
  seen.bytes_written = wire.get<std::uint64_t>();
  seen.allocated_bytes = wire.get<std::uint64_t>();
  seen.debug_bytes = wire.get<unsigned>();
  seen.debug_data = wire.get_bytes();
  return seen;
}

TEST(DramTarget, LtInitiatorReadsBackItsDataWithTheCoreTimingAndGetsErrorResponses) {
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION) {
    GTEST_SKIP() << "SystemC already ran in this process; CTest runs this test on its own";
  }
  const DramConfig ddr4 = *dram_preset("ddr4-3200");
  const std::optional<Observed> seen = run_in_child(ddr4);
  ASSERT_TRUE(seen.has_value());

  const std::vector<Outcome>& o = seen->outcomes;
  ASSERT_EQ(o.size(), 6u);

  // The same requests, at the same arrival times, straight into the core.
  DramController core(ddr4);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(o[i].status, tlm::TLM_OK_RESPONSE) << i;
    const std::int64_t arrival = o[i].start_ps + o[i].delay_in_ps;
    const std::uint64_t address = i == 2 ? std::uint64_t{1} << 24 : 0;
    const std::int64_t done = core.access(address, o[i].data.size(), i == 0, arrival);
    EXPECT_EQ(o[i].delay_out_ps, done - o[i].start_ps) << i;
  }
  // Closed form for the first two (DDR4-3200, tCK 625 ps, front end 1 cycle):
  // the 256 B write is four posted bursts, complete as they enter the write
  // buffer at cycle 1.
  EXPECT_EQ(o[0].delay_out_ps, 1 * 625);
  // Reading back from cycle 1: the bursts enter at 2 and are still in the
  // buffer (their WRs wait for tRCD after the ACTs from cycle 1 on), so each is
  // served from it one burst (tBURST 4) later: done at 6, 5 cycles after 1.
  EXPECT_EQ(o[1].start_ps, 1 * 625);
  EXPECT_EQ(o[1].delay_out_ps, 5 * 625);
  EXPECT_EQ(o[1].data, o[0].data);
  // Never-written memory reads as zeros; the annotated 10 ns is kept and extended.
  EXPECT_EQ(o[2].data, std::vector<std::uint8_t>(64, 0));
  EXPECT_GT(o[2].delay_out_ps, o[2].delay_in_ps);

  EXPECT_EQ(o[3].status, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  EXPECT_EQ(o[4].status, tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(o[5].status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  for (int i = 3; i < 6; ++i) EXPECT_EQ(o[i].delay_out_ps, 0) << i;
  // Rejected requests neither count nor move data.
  EXPECT_EQ(seen->bytes_read, 256u + 64u);
  EXPECT_EQ(seen->bytes_written, 256u);
  EXPECT_EQ(seen->debug_bytes, 16u);
  EXPECT_EQ(seen->debug_data.at(0), 17);  // pattern byte 16 holds 17
  EXPECT_EQ(seen->allocated_bytes, 4096u);
}

}  // namespace
}  // namespace npusim
