package dev.txkv.bench.compare;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;

/**
 * A YCSB record (field name to value) as one value, so each record is one key in every store.
 *
 * <pre>
 * record := field*                      (no count: fields run to the end of the value)
 * field  := nameLength:u16 BE | name:UTF-8[nameLength] | valueLength:u32 BE | value[valueLength]
 *           offset 0           2                        2+nameLength          6+nameLength
 * </pre>
 */
public final class FieldCodec {
    /** A record larger than this is refused: YCSB's default record is 10 fields of 100 bytes. */
    public static final int RECORD_BYTES_MAX = 1 << 20;

    private FieldCodec() {
    }

    /** The fields of {@code values} as one value. */
    public static byte[] encode(Map<String, ByteIterator> values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1100);
        for (Map.Entry<String, ByteIterator> e : values.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = e.getValue().toArray();
            if (name.length > 0xFFFF) {
                throw new IllegalArgumentException("field name longer than 65,535 bytes: " + e.getKey());
            }
            ByteBuffer header = ByteBuffer.allocate(2);
            header.putShort((short) name.length);
            out.writeBytes(header.array());
            out.writeBytes(name);
            out.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
            out.writeBytes(value);
            if (out.size() > RECORD_BYTES_MAX) {
                throw new IllegalArgumentException("record larger than " + RECORD_BYTES_MAX + " bytes");
            }
        }
        return out.toByteArray();
    }

    /** Adds to {@code into} the fields of {@code record} named in {@code fields} (all when null). */
    public static void decode(byte[] record, Set<String> fields, Map<String, ByteIterator> into) {
        ByteBuffer in = ByteBuffer.wrap(record);
        while (in.hasRemaining()) {
            int nameLength = Short.toUnsignedInt(in.getShort());
            String name = new String(record, in.position(), nameLength, StandardCharsets.UTF_8);
            in.position(in.position() + nameLength);
            int valueLength = in.getInt();
            if (valueLength < 0 || valueLength > in.remaining()) {
                throw new IllegalArgumentException("corrupt record: field " + name + " claims " + valueLength + " bytes");
            }
            if (fields == null || fields.contains(name)) {
                into.put(name, new ByteArrayByteIterator(record, in.position(), valueLength));
            }
            in.position(in.position() + valueLength);
        }
    }

    /** {@code record} with the fields in {@code updates} replaced or added. */
    public static byte[] merge(byte[] record, Map<String, ByteIterator> updates) {
        Map<String, ByteIterator> all = new java.util.LinkedHashMap<>();
        if (record != null) {
            decode(record, null, all);
        }
        all.putAll(updates);
        return encode(all);
    }
}
