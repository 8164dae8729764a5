//! Counting the heap memory a piece of code keeps, to bound memory by a count
//! rather than by time.
//!
//! A check binary installs [`CountingAllocator`] as its global allocator:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: support::memory::CountingAllocator =
//!     support::memory::CountingAllocator;
//! ```
//!
//! and [`kept_by`] then says how many bytes a closure left allocated. The
//! count is per thread (tests run side by side on threads), so it sees what
//! the closure's own thread allocates and frees; memory handed to another
//! thread and freed there would be missed, which the checks do not do.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Bytes allocated minus bytes freed by this thread.
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn add(bytes: i64) {
    // `try_with`: a thread being torn down may still free memory.
    let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
}

/// The system allocator, counting each thread's live bytes.
pub struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to `System`; only a thread-local
// integer (no allocation, no lock) is updated beside it.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on as it is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            add(layout.size() as i64);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add(layout.size() as i64);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            add(new_size as i64 - layout.size() as i64);
        }
        new
    }
}

/// Bytes this thread has allocated and not freed, since it started (only
/// meaningful when [`CountingAllocator`] is the global allocator).
pub fn live_bytes() -> i64 {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// Runs `work` and returns its result with the bytes it left allocated on
/// this thread (negative when it freed more than it allocated).
pub fn kept_by<T>(work: impl FnOnce() -> T) -> (T, i64) {
    let before = live_bytes();
    let out = work();
    (out, live_bytes() - before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    #[test]
    fn memory_kept_is_counted_and_memory_freed_is_not() {
        let (kept, bytes) = kept_by(|| vec![0u8; 10_000]);
        assert_eq!(bytes, 10_000);
        let ((), freed) = kept_by(|| drop(kept));
        assert_eq!(freed, -10_000);
        let ((), temporary) = kept_by(|| {
            let v = vec![1u64; 1_000];
            assert_eq!(v.len(), 1_000);
        });
        assert_eq!(temporary, 0);
    }

    #[test]
    fn growing_a_vector_counts_its_final_capacity() {
        let (v, bytes) = kept_by(|| {
            let mut v: Vec<u32> = Vec::new();
            v.extend(0..1_000);
            v
        });
        assert_eq!(bytes, (v.capacity() * 4) as i64);
        let (zeroed, bytes) = kept_by(|| vec![0u64; 512]);
        assert_eq!(bytes, 4_096);
        drop(zeroed);
    }

    #[test]
    fn another_threads_allocations_are_not_counted_here() {
        let (handle, bytes) = kept_by(|| std::thread::spawn(|| vec![0u8; 50_000]));
        let far = handle.join().unwrap();
        assert!(bytes < 50_000, "{bytes}");
        drop(far);
    }
}
