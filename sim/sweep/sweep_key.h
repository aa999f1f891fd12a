// The identity of one sweep point: a 64-bit FNV-1a hash of the canonical JSON
// of everything that decides its result (the resolved config, the network file
// and its content, the run options). Same inputs, same key, on any machine; a
// changed config field, network byte or option gives a new key, so a resumed or
// extended sweep reuses exactly the results that still apply.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/accelerator_config.h"

namespace npusim {

// FNV-1a, 64 bit: offset basis 0xcbf29ce484222325, prime 0x100000001b3, one
// byte at a time (xor, then multiply). Not cryptographic: it names results,
// nobody is expected to forge a collision.
std::uint64_t fnv1a_64(std::string_view bytes);

// 16 lowercase hex digits.
std::string hex64(std::uint64_t value);

// The hash of a file's bytes; InputError naming the file when unreadable.
std::uint64_t file_fnv1a_64(const std::string& path);

// The document a key hashes: {"config": <to_json(config), keys sorted>,
// "network": {"path": as written in the sweep file, "fnv1a64": content hash},
// "options": {"report": "npusim.run/1", "run_args": [...] (only when given)}}.
nlohmann::json point_identity(const AcceleratorConfig& config, const std::string& network_path,
                              std::uint64_t network_hash, const std::vector<std::string>& run_args = {});

// hex64(fnv1a_64(identity.dump())): nlohmann::json (unordered) dumps object
// keys sorted and numbers in shortest round-trip form, so the dump is canonical.
std::string point_key(const nlohmann::json& identity);

}  // namespace npusim
