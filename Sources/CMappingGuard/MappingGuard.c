#define _GNU_SOURCE
#include "CMappingGuard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// A fixed table, so that the handler reads it without locks or allocation. A slot is free
// when its end is 0; `start` is written before `end` is published. Each file of a set of
// shards holds a slot, so there are more than the 10,000 shards one input may name
// (ShardPaths.maximumShardCount); 16,384 slots take 384 KiB, untouched until used.
#define FK_GUARD_SLOTS 16384

typedef struct {
    _Atomic uintptr_t start;
    _Atomic uintptr_t end;
    _Atomic unsigned long faults;
} fk_guarded_range;

static fk_guarded_range fk_ranges[FK_GUARD_SLOTS];
static struct sigaction fk_previous;
static _Atomic int fk_installed = 0;
static uintptr_t fk_page_mask;

static void fk_forward(int signal, siginfo_t *info, void *context) {
    if (fk_previous.sa_flags & SA_SIGINFO) {
        if (fk_previous.sa_sigaction) { fk_previous.sa_sigaction(signal, info, context); return; }
    } else if (fk_previous.sa_handler != SIG_DFL && fk_previous.sa_handler != SIG_IGN) {
        fk_previous.sa_handler(signal);
        return;
    }
    // The default action: restore it and return, so that the faulting access repeats and
    // the process ends as it would have without us.
    struct sigaction defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &defaults, NULL);
}

static void fk_bus_handler(int signal, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int slot = 0; slot < FK_GUARD_SLOTS; slot++) {
        uintptr_t end = atomic_load_explicit(&fk_ranges[slot].end, memory_order_acquire);
        if (end == 0) continue;
        uintptr_t start = atomic_load_explicit(&fk_ranges[slot].start, memory_order_relaxed);
        if (address < start || address >= end) continue;
        // mmap is a plain system call on Linux, safe here in practice though POSIX does not
        // list it; the replaced page reads as zeros and the reader discards what it computed.
        void *page = (void *)(address & fk_page_mask);
        void *mapped = mmap(page, ~fk_page_mask + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (mapped == MAP_FAILED) break;
        atomic_fetch_add_explicit(&fk_ranges[slot].faults, 1, memory_order_relaxed);
        return;
    }
    fk_forward(signal, info, context);
}

static void fk_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&fk_installed, &expected, 1)) return;
    fk_page_mask = ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = fk_bus_handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &fk_previous);
}

int fk_guard_mapping(const void *base, size_t length) {
    fk_install();
    for (int slot = 0; slot < FK_GUARD_SLOTS; slot++) {
        uintptr_t free_end = 0;
        // A plain load first: with thousands of shards open, most slots are taken, and a
        // failed compare-exchange costs a locked instruction.
        if (atomic_load_explicit(&fk_ranges[slot].end, memory_order_relaxed) != 0) continue;
        // Claim the slot with a marker end of 1 (an empty range), then fill it in.
        if (!atomic_compare_exchange_strong(&fk_ranges[slot].end, &free_end, 1)) continue;
        atomic_store_explicit(&fk_ranges[slot].faults, 0, memory_order_relaxed);
        atomic_store_explicit(&fk_ranges[slot].start, (uintptr_t)base, memory_order_relaxed);
        atomic_store_explicit(&fk_ranges[slot].end, (uintptr_t)base + length, memory_order_release);
        return slot;
    }
    return -1;
}

void fk_unguard_mapping(int slot) {
    if (slot < 0 || slot >= FK_GUARD_SLOTS) return;
    atomic_store_explicit(&fk_ranges[slot].end, 0, memory_order_release);
}

unsigned long fk_mapping_faults(int slot) {
    if (slot < 0 || slot >= FK_GUARD_SLOTS) return 0;
    return atomic_load_explicit(&fk_ranges[slot].faults, memory_order_relaxed);
}
