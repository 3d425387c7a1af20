#pragma once
// Snappy's C interface (the library itself is C++): Parquet's SNAPPY pages are raw snappy blocks.
#include <snappy-c.h>
