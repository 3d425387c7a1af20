#pragma once
// Parquet's GZIP pages are gzip members (RFC 1952), inflated with zlib.
#include <zlib.h>
