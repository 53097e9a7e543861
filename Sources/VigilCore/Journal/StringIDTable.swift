/// The journal encoder's per-segment dictionary: string → id, by open
/// addressing on FNV-1a of the UTF-8 bytes. The strings are short device,
/// point and unit names looked up several times per reading; this costs a
/// fraction of `Dictionary<String, _>`'s seeded SipHash.
struct StringIDTable {
    private var hashes: [UInt64]
    private var ids: [UInt64]
    private var texts: [String]
    private(set) var count = 0

    init(capacity: Int = 256) {
        hashes = Array(repeating: 0, count: capacity)
        ids = Array(repeating: 0, count: capacity)
        texts = Array(repeating: "", count: capacity)
    }

    /// FNV-1a over the UTF-8 bytes, eight at a time; never 0 (0 marks an empty slot).
    static func hash(_ text: String) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var i = 0
            while i + 8 <= raw.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* prime
                i += 8
            }
            while i < raw.count {
                h = (h ^ UInt64(raw[i])) &* prime
                i += 1
            }
        }
        if done == nil { for byte in text.utf8 { h = (h ^ UInt64(byte)) &* prime } }
        // A multiply only carries bits upwards: fold the high bits down (splitmix64's
        // finalizer) so that "gas-1" and "gas-2" land in different slots.
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return (h ^ (h >> 31)) | 1
    }

    func find(_ text: String, hash: UInt64) -> UInt64? {
        let mask = hashes.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while hashes[slot] != 0 {
            if hashes[slot] == hash && texts[slot] == text { return ids[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    mutating func insert(_ text: String, hash: UInt64, id: UInt64) {
        if (count + 1) * 2 > hashes.count { grow() }
        let mask = hashes.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while hashes[slot] != 0 { slot = (slot + 1) & mask }
        hashes[slot] = hash
        ids[slot] = id
        texts[slot] = text
        count += 1
    }

    mutating func removeAll() {
        for i in hashes.indices { hashes[i] = 0; texts[i] = "" }
        count = 0
    }

    private mutating func grow() {
        let old = (hashes, ids, texts)
        self = StringIDTable(capacity: hashes.count * 2)
        for i in old.0.indices where old.0[i] != 0 { insert(old.2[i], hash: old.0[i], id: old.1[i]) }
    }
}

/// In front of `StringIDTable`: the id of a string found by the string's own
/// 16 bytes, with no hashing of its text. Those bytes are the text itself when
/// it is short, else its storage's address and length; equal bytes mean equal
/// text, because the cache holds the string, so its storage is neither freed
/// nor reused. The same text stored another way misses here, and the table
/// finds it by content. Direct-mapped: a collision just replaces the entry.
struct StringIdentityCache {
    private static let slots = 256
    /// Where `String` is not two words (32-bit platforms) the cache stays empty.
    private static let usable = MemoryLayout<String>.size == 16
    private var words = [(UInt64, UInt64)](repeating: (0, 0), count: slots)
    /// id + 1; 0 marks an empty slot.
    private var ids = [UInt64](repeating: 0, count: slots)
    private var texts = [String](repeating: "", count: slots)

    @inline(__always)
    private static func key(_ text: String) -> (UInt64, UInt64) {
        withUnsafeBytes(of: text) { ($0.loadUnaligned(fromByteOffset: 0, as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }

    @inline(__always)
    private static func slot(_ key: (UInt64, UInt64)) -> Int {
        // Multiplying carries each byte into the top bits, where the slot is taken from.
        Int(truncatingIfNeeded: ((key.0 &* 0x9E37_79B9_7F4A_7C15) ^ (key.1 &* 0xC2B2_AE3D_27D4_EB4F)) >> 56)
    }

    func find(_ text: String) -> UInt64? {
        guard Self.usable else { return nil }
        let key = Self.key(text), slot = Self.slot(key)
        guard ids[slot] != 0, words[slot] == key else { return nil }
        return ids[slot] - 1
    }

    mutating func remember(_ text: String, id: UInt64) {
        guard Self.usable else { return }
        let key = Self.key(text), slot = Self.slot(key)
        words[slot] = key
        ids[slot] = id + 1
        texts[slot] = text
    }

    mutating func removeAll() {
        for i in 0..<Self.slots { ids[i] = 0; texts[i] = "" }
    }
}
