/// The journal's write buffer: bytes stored through a raw pointer into memory
/// reserved ahead. The encoder reserves once per frame (`reserve`) and then
/// writes without checks; `[UInt8].append` checks capacity and uniqueness on
/// every byte, which was a fifth of the encoder's time.
///
/// A value type used through `inout` (no exclusivity checks, unlike a class's
/// stored properties), and non-copyable: it owns its memory.
struct ByteWriter: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 64 * 1024) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Makes room for `extra` more bytes: the writes after it do not check.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    mutating func removeAll() { count = 0 }

    /// Forgets everything after `mark` (a frame that turned out not to fit).
    mutating func truncate(to mark: Int) { count = mark }

    // The writes below need room reserved first.

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        assert(count < capacity)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        assert(count + MemoryLayout<T>.size <= capacity)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: T.self)
        count += MemoryLayout<T>.size
    }

    /// LEB128: at most 10 bytes.
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        assert(count + bytes.count <= capacity)
        guard let source = bytes.baseAddress else { return }
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// Stores at an earlier offset (a frame's length and CRC, once its body is written).
    @inline(__always)
    mutating func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
