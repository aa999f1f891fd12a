// Runs GEMMs on the modeled MAC array: values and cycle count.
#pragma once

#include <cstdint>
#include <memory>

#include "accel/array/array_config.h"
#include "accel/array/gemm.h"

namespace npusim {

struct GemmRun {
  GemmOutput output;
  std::int64_t cycles = 0;  // array cycles from the first operand in to the last result out
};

class GemmEngine {
 public:
  virtual ~GemmEngine() = default;
  // Operands must match the engine's MacFormat (integer spans for integer-class
  // formats, float spans otherwise) and the shape.
  virtual GemmRun run(const GemmOperands& operands) = 0;
};

// Closed-form timing plus the optimized kernel. Any number per process.
std::unique_ptr<GemmEngine> make_tile_engine(const ArrayConfig& array);

// The register-level SystemC model. Elaborates a SystemC module, so at most one
// per process, created before any other SystemC object.
std::unique_ptr<GemmEngine> make_pe_engine(const ArrayConfig& array, double clock_mhz);

}  // namespace npusim
