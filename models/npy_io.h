// NumPy .npy files (format versions 1.0, 2.0 and 3.0): the container
// architects' scripts read and write with numpy.load / numpy.save.
//
// Layout: the magic "\x93NUMPY", a major and a minor version byte, the header
// length (uint16 little-endian in 1.0, uint32 in 2.0 and 3.0), then an ASCII
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces to a multiple of 64 bytes and ended by '\n', then the
// values in C (row-major) order with no gap.
//
// Read here: little-endian (or byte-order-free) float32, float64, int8,
// uint8, int32 and int64, C order only. The reader is bounded: the payload
// size the header declares is checked against the file's size before
// anything is allocated from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace npusim {

enum class NpyType { f32, f64, i8, u8, i32, i64 };

// numpy's name: "float32", "int8", ...
const char* to_string(NpyType type);
// The descr numpy writes for it: "<f4", "|i1", ...
const char* npy_descr(NpyType type);
int npy_item_bytes(NpyType type);

struct NpyArray {
  NpyType type = NpyType::f32;
  std::vector<std::int64_t> shape;  // () is a scalar: one element
  std::vector<std::uint8_t> bytes;  // little-endian values, C order

  std::int64_t elements() const;
  // Every value converted to double (exact for all the types read here but
  // int64 values beyond 2^53).
  std::vector<double> as_double() const;
};

// Throws InputError "PATH: ..." (one line) for a missing file, a bad magic or
// version, an unreadable header, a big-endian or unsupported dtype, Fortran
// order, a negative dimension, or a payload that is shorter or longer than
// the shape says.
NpyArray read_npy(const std::string& path);

// Writes `array` to `path` as a version 1.0 file (2.0 if the header needs
// it): first to PATH.tmp in the same directory, then renamed, so that a file
// named PATH is only ever complete. Throws InputError naming the path when
// it cannot be written.
void write_npy(const std::string& path, const NpyArray& array);

// Convenience constructors.
NpyArray npy_float32(std::vector<std::int64_t> shape, const std::vector<float>& values);
NpyArray npy_int8(std::vector<std::int64_t> shape, const std::vector<std::int8_t>& values);

}  // namespace npusim
