#include "traces/vcd_writer.h"

#include "traces/trace_file_output.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <system_error>
#include <systemc>

#include "traces/gtkwave_save.h"
#include "traces/trace_file_output.h"
#include "traces/vcd_plan.h"
#include "traces/vcd_replay_module.h"

namespace npusim {
namespace {

constexpr const char* kFixedDate = "     (omitted so that equal traces are equal files)";

// Runs in the child: a fresh kernel, the replay, the trace file. Throws on error.
struct ReplayInput {
  const std::vector<VcdSignal>& signals;
  const std::function<VcdChangeSource()>& open_changes;
  std::int64_t end_ps;
};

void replay_in_fresh_kernel(const ReplayInput& plan, const std::string& systemc_base, const std::string& comment) {
  setenv("SYSC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  // The inherited kernel may be elaborated or running; a new context is empty.
  // Never freed: the process ends right after.
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext;
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_THROW);
  if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS)) {
    throw std::runtime_error("SystemC time resolution is not 1 ps");
  }

  VcdReplayModule replay("npusim", plan.signals, plan.open_changes());
  sc_core::sc_trace_file* file = sc_core::sc_create_vcd_trace_file(systemc_base.c_str());
  file->set_time_unit(1, sc_core::SC_PS);
  if (!comment.empty()) file->write_comment(comment);
  replay.trace(file);
  sc_core::sc_start(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(plan.end_ps) + 1));
  sc_core::sc_close_vcd_trace_file(file);
}

// Forks, replays in the child, and returns the child's error ("" on success).
std::string replay_in_child(const ReplayInput& plan, const std::string& systemc_base, const std::string& comment) {
  int fds[2];
  if (pipe(fds) != 0) return std::string("pipe() failed: ") + std::strerror(errno);
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return std::string("fork() failed: ") + std::strerror(errno);
  }
  if (pid == 0) {
    // The child must never return into the caller: _exit on every path.
    close(fds[0]);
    std::string error;
    try {
      replay_in_fresh_kernel(plan, systemc_base, comment);
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown error";
    }
    std::size_t sent = 0;
    while (sent < error.size()) {
      const ssize_t n = write(fds[1], error.data() + sent, error.size() - sent);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    close(fds[1]);
    _exit(error.empty() ? 0 : 1);
  }
  close(fds[1]);
  std::string error;
  char chunk[512];
  for (;;) {
    const ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n > 0) {
      error.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return std::string("waitpid() failed: ") + std::strerror(errno);
  }
  if (WIFSIGNALED(status)) return "replay process killed by signal " + std::to_string(WTERMSIG(status));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // SystemC reports end with a newline and a file:line; keep the message line.
    const std::size_t line_end = error.find('\n');
    return error.empty() ? "replay process failed" : error.substr(0, line_end);
  }
  return "";
}

}  // namespace

void write_vcd_trace(const TraceEvents& events, const std::string& path, const VcdOptions& options) {
  const VcdPlan plan = plan_vcd(events, options.bandwidth_window_ps);
  const std::function<VcdChangeSource()> open_changes = [&plan]() -> VcdChangeSource {
    return [&plan, next = std::size_t{0}](VcdChange& change) mutable {
      if (next == plan.changes.size()) return false;
      change = plan.changes[next++];
      return true;
    };
  };
  write_vcd_trace(plan.signals, open_changes, plan.end_ps, truncation_message(events), path);
}

void write_vcd_trace(const std::vector<VcdSignal>& signals, const std::function<VcdChangeSource()>& open_changes,
                     std::int64_t end_ps, const std::string& comment, const std::string& path) {
  const ReplayInput plan{signals, open_changes, end_ps};
  const std::string systemc_base = path + ".sc";  // SystemC appends ".vcd"
  const std::string systemc_file = systemc_base + ".vcd";
  auto remove_temporaries = [&] {
    std::error_code ignored;
    std::filesystem::remove(systemc_file, ignored);
    std::filesystem::remove(path + ".tmp", ignored);
  };

  // Fail on an unwritable path here, with a plain message, rather than deep
  // inside the child's kernel.
  {
    std::ofstream probe(path + ".tmp", std::ios::binary | std::ios::trunc);
    if (!probe) {
      throw TraceFileError("cannot write trace file '" + path + "': cannot create " + path + ".tmp");
    }
  }
  const std::string error = replay_in_child(plan, systemc_base, comment);
  if (!error.empty()) {
    remove_temporaries();
    throw TraceFileError("cannot write trace file '" + path + "': VCD replay: " + error);
  }
  try {
    write_trace_file(path, [&](std::ostream& out) {
      std::ifstream in(systemc_file, std::ios::binary);
      if (!in) throw TraceFileError("cannot write trace file '" + path + "': cannot read " + systemc_file);
      std::string line;
      bool in_date = false, date_done = false;
      while (std::getline(in, line)) {
        if (!date_done && in_date && line != "$end") {
          line = kFixedDate;
        } else if (!date_done && in_date) {
          in_date = false;
          date_done = true;
        } else if (!date_done && line == "$date") {
          in_date = true;
        }
        out << line << '\n';
      }
    });
  } catch (...) {
    remove_temporaries();
    throw;
  }
  remove_temporaries();
  // The replay's last timestamp is end_ps + 1 (see the header).
  const std::string vcd_name = std::filesystem::path(path).filename().string();
  write_trace_file(gtkwave_save_path(path),
                   [&](std::ostream& out) { out << gtkwave_save_text(signals, end_ps + 1, vcd_name); });
}

}  // namespace npusim
