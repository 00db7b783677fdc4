// emulator_process.hpp — starts the gitfleet GitHub API emulator as a child process for the
// C++ tests and the benchmark, reads the URL it prints, and stops it.
//
// The binary is $GITFLEET_EMULATOR_BIN when set, else the path compiled in as
// GITFLEET_TEST_EMULATOR (the CMake cache variable GITFLEET_EMULATOR). (Not $GITFLEET_EMULATOR:
// the examples use that name for the flag "running against the emulator".)
//
// The child gets `--port 0 --lifetime 300 --exit-on-stdin-eof` and the caller's arguments; its
// standard input is a pipe this process holds, so it also exits when this process dies.

#ifndef GITFLEET_TESTS_EMULATOR_PROCESS_HPP
#define GITFLEET_TESTS_EMULATOR_PROCESS_HPP

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

extern char **environ;

namespace gitfleet_test {

/// The emulator binary to run.
inline std::string emulator_binary() {
    const char *from_env = std::getenv("GITFLEET_EMULATOR_BIN");
    if (from_env != nullptr && from_env[0] != '\0') {
        return from_env;
    }
#ifdef GITFLEET_TEST_EMULATOR
    return GITFLEET_TEST_EMULATOR;
#else
    return "target/debug/gitfleet-emulator";
#endif
}

/// One running emulator. Move-only; stops the child when destroyed.
class EmulatorProcess {
  public:
    /// Starts the emulator with `args` (after the fixed ones); throws std::runtime_error when
    /// it cannot be started or prints no URL within 10 s.
    explicit EmulatorProcess(const std::vector<std::string> &args) {
        const std::string binary = emulator_binary();
        std::vector<std::string> argv_text = {binary,       "--port", "0",
                                              "--lifetime", "300",    "--exit-on-stdin-eof"};
        argv_text.insert(argv_text.end(), args.begin(), args.end());
        std::vector<char *> argv;
        for (std::string &arg : argv_text) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);

        int in_pipe[2];
        int out_pipe[2];
        if (pipe2(in_pipe, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        if (pipe2(out_pipe, O_CLOEXEC) != 0) {
            close(in_pipe[0]);
            close(in_pipe[1]);
            throw std::runtime_error("pipe2 failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
        const int spawned =
            posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(in_pipe[0]);
        close(out_pipe[1]);
        stdin_fd_ = in_pipe[1];
        stdout_fd_ = out_pipe[0];
        if (spawned != 0) {
            pid_ = -1;
            stop();
            throw std::runtime_error("cannot start the emulator " + binary + ": " +
                                     std::strerror(spawned) +
                                     " (cargo build -p gitfleet-emulator)");
        }
        try {
            url_ = read_url();
        } catch (...) {
            stop();
            throw;
        }
    }

    EmulatorProcess(const EmulatorProcess &) = delete;
    EmulatorProcess &operator=(const EmulatorProcess &) = delete;
    ~EmulatorProcess() { stop(); }

    /// The base URL, e.g. "http://127.0.0.1:41234".
    const std::string &url() const { return url_; }

    /// Stops the child (closing its stdin, then SIGTERM) and reaps it. Idempotent.
    void stop() noexcept {
        if (stdin_fd_ >= 0) {
            close(stdin_fd_);
            stdin_fd_ = -1;
        }
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
        if (stdout_fd_ >= 0) {
            close(stdout_fd_);
            stdout_fd_ = -1;
        }
    }

  private:
    std::string read_url() {
        static const std::string prefix = "gitfleet-emulator listening on ";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        std::string line;
        while (line.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                throw std::runtime_error("the emulator printed no URL within 10 s");
            }
            pollfd fd = {stdout_fd_, POLLIN, 0};
            const int ready = poll(&fd, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) {
                continue;
            }
            if (ready <= 0) {
                continue;
            }
            char buffer[256];
            const ssize_t got = read(stdout_fd_, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                throw std::runtime_error("the emulator exited before printing its URL");
            }
            line.append(buffer, static_cast<std::size_t>(got));
        }
        line.erase(line.find('\n'));
        if (line.compare(0, prefix.size(), prefix) != 0) {
            throw std::runtime_error("unexpected first line from the emulator: " + line);
        }
        return line.substr(prefix.size());
    }

    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    int stdout_fd_ = -1;
    std::string url_;
};

} // namespace gitfleet_test

#endif // GITFLEET_TESTS_EMULATOR_PROCESS_HPP
