package io.sallyport.ssh;

import io.sallyport.identity.SshPublicKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;

/**
 * A stand-in private host for {@code sallyport demo}: an SSH server that accepts the demo key and
 * answers any shell or command with one greeting line. It exists so that the printed
 * {@code ssh -J} command has something real at the far end, with nothing installed.
 */
public final class DemoTarget implements AutoCloseable {
    private final SshServer server;

    private DemoTarget(SshServer server) {
        this.server = server;
    }

    public static DemoTarget start(InetSocketAddress bind, KeyPair hostKey, SshPublicKey allowed) throws IOException {
        SshServer s = SshServer.setUpDefaultServer();
        s.setHost(bind.getAddress().getHostAddress());
        s.setPort(bind.getPort());
        s.setKeyPairProvider(KeyPairProvider.wrap(List.of(hostKey)));
        s.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
        s.setPasswordAuthenticator(null);
        s.setKeyboardInteractiveAuthenticator(null);
        s.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
        s.setPublickeyAuthenticator((user, key, session) -> {
            ByteArrayBuffer b = new ByteArrayBuffer();
            b.putRawPublicKey(key);
            return SshPublicKey.fromBlob(b.getCompactData()).equals(allowed);
        });
        String greeting = "Hello from the demo target " + bind.getAddress().getHostAddress() + ":" + bind.getPort()
                + ", reached through sallyport.\r\n";
        s.setShellFactory(channel -> new Greeting(greeting));
        s.setCommandFactory((channel, command) -> new Greeting(greeting));
        s.start();
        return new DemoTarget(s);
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() throws IOException {
        server.stop(true);
    }

    /** Writes one line and exits 0. */
    private static final class Greeting implements Command {
        private final String text;
        private OutputStream out;
        private ExitCallback exit;

        Greeting(String text) {
            this.text = text;
        }

        @Override
        public void setExitCallback(ExitCallback callback) {
            this.exit = callback;
        }

        @Override
        public void setInputStream(InputStream in) {}

        @Override
        public void setOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void setErrorStream(OutputStream err) {}

        @Override
        public void start(ChannelSession channel, Environment env) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            exit.onExit(0);
        }

        @Override
        public void destroy(ChannelSession channel) {}
    }
}
