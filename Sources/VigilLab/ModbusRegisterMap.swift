import CModbus
import VigilCore
import VigilThreads

/// The four Modbus tables of one simulated device: a libmodbus mapping.
public final class ModbusRegisterMap {
    let mapping: UnsafeMutablePointer<modbus_mapping_t>

    /// Sizes are counts from address 0.
    public init(coils: Int, discrete: Int, holding: Int, input: Int) {
        guard let mapping = modbus_mapping_new(Int32(coils), Int32(discrete), Int32(holding), Int32(input)) else {
            fatalError("out of memory allocating a Modbus mapping")
        }
        self.mapping = mapping
    }

    deinit { modbus_mapping_free(mapping) }

    public func setRegisters(_ table: RegisterTable, at address: Int, _ words: [UInt16]) {
        let (base, size) = table == .holding
            ? (mapping.pointee.tab_registers, Int(mapping.pointee.nb_registers))
            : (mapping.pointee.tab_input_registers, Int(mapping.pointee.nb_input_registers))
        for (i, w) in words.enumerated() where address + i < size { base![address + i] = w }
    }

    public func registers(_ table: RegisterTable, at address: Int, count: Int) -> [UInt16] {
        let base = table == .holding ? mapping.pointee.tab_registers : mapping.pointee.tab_input_registers
        return (0..<count).map { base![address + $0] }
    }

    public func setBit(_ table: RegisterTable, at address: Int, _ value: Bool) {
        let (base, size) = table == .coil
            ? (mapping.pointee.tab_bits, Int(mapping.pointee.nb_bits))
            : (mapping.pointee.tab_input_bits, Int(mapping.pointee.nb_input_bits))
        if address < size { base![address] = value ? 1 : 0 }
    }

    public func bit(_ table: RegisterTable, at address: Int) -> Bool {
        let base = table == .coil ? mapping.pointee.tab_bits : mapping.pointee.tab_input_bits
        return base![address] != 0
    }
}
