// The protobuf classes of the ONNX file format (Debian's libonnx-dev). Their
// header selects the ONNX-ML variant by macro; the onnx_proto CMake target sets
// the macros for its direct users, this header sets them for everyone else.
#pragma once

#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>
