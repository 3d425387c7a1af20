#pragma once
// Parquet's ZSTD pages are whole zstd frames.
#include <zstd.h>
