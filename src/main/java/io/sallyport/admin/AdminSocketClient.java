package io.sallyport.admin;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Timer;
import java.util.TimerTask;

/** The CLI's side of the admin socket: one request, one response, bounded in size and time. */
public final class AdminSocketClient {
    /** A response listing many thousands of sessions stays well under this. */
    static final int MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private AdminSocketClient() {}

    /** No server listens on the socket (no file, or nobody accepting). */
    public static final class NotAnswering extends IOException {
        public NotAnswering(Path socket) {
            super("no sallyport server is answering on " + socket, null);
        }
    }

    /** Sends {@code request} and returns the server's response ({@code ok: true}). */
    public static JsonNode call(Path socket, AdminProtocol.Request request) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotAnswering(socket);
        }
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        Timer timer = new Timer("sallyport-admin-client", true);
        try (ch) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                String m = String.valueOf(e.getMessage());
                if (m.contains("ermission denied")) {
                    throw new IOException("permission denied on " + socket + " (is your user in the "
                            + AdminSocket.ADMIN_GROUP + " group?)", e);
                }
                throw new NotAnswering(socket);
            }
            timer.schedule(new TimerTask() {
                @Override
                public void run() {
                    try {
                        ch.close();
                    } catch (IOException e) {
                        // closing is all that was wanted
                    }
                }
            }, TIMEOUT.toMillis());
            ByteBuffer b = ByteBuffer.wrap((AdminProtocol.encode(request) + "\n").getBytes(StandardCharsets.UTF_8));
            try {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            } catch (ClosedChannelException e) {
                throw e;
            } catch (IOException e) {
                // A server that refuses at once (busy) answers and closes without reading: its
                // answer is still there to read, and says more than "Broken pipe".
            }
            String line = AdminProtocol.readLine(ch, MAX_RESPONSE_BYTES)
                    .orElseThrow(() -> new IOException("the server on " + socket + " closed without answering"));
            return AdminProtocol.response(line);
        } catch (ClosedChannelException e) {
            throw new IOException("the server on " + socket + " did not answer within " + TIMEOUT.toSeconds() + "s");
        } finally {
            timer.cancel();
        }
    }
}
