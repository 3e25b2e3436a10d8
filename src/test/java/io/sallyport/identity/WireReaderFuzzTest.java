package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * {@link WireReader} under every parser of SSH wire data: any sequence of reads over any bytes
 * either returns or throws {@link IllegalArgumentException} (never an index or allocation error
 * from a length field), and never moves outside its bounds. Corpus and how to fuzz:
 * docs/fuzzing.md.
 */
class WireReaderFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void reads(FuzzedDataProvider data) {
        int steps = data.consumeInt(0, 32);
        int[] ops = new int[steps];
        for (int i = 0; i < steps; i++) {
            ops[i] = data.consumeInt(0, 8);
        }
        byte[] bytes = data.consumeRemainingAsBytes();
        read(new WireReader(bytes), ops, bytes.length);
    }

    private static void read(WireReader in, int[] ops, int size) {
        for (int op : ops) {
            int before = in.remaining();
            try {
                switch (op) {
                    case 0 -> in.readByte("byte");
                    case 1 -> in.readBoolean("boolean");
                    case 2 -> assertThat(in.readUint32("uint32")).isBetween(0L, 0xffff_ffffL);
                    case 3 -> in.readUint64("uint64");
                    case 4 -> assertThat(in.readString("string").length).isLessThanOrEqualTo(before - 4);
                    case 5 -> WireReader.text(in.readString("text"), "text");
                    case 6 -> assertThat(in.readNonNegativeMpint("mpint").length).isLessThanOrEqualTo(before - 4);
                    case 7 -> {
                        WireReader nested = in.readNested("nested");
                        assertThat(nested.remaining()).isLessThanOrEqualTo(before - 4);
                        read(nested, new int[] {4, 2, 0}, size);
                    }
                    default -> in.requireEnd("input");
                }
            } catch (IllegalArgumentException refused) {
                assertThat(refused.getMessage()).isNotBlank();
                assertThat(in.remaining()).isBetween(0, before);
                return;
            }
            assertThat(in.remaining()).isBetween(0, before);
            assertThat(in.position()).isBetween(0, size);
        }
    }
}
