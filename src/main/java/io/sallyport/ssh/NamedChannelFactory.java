package io.sallyport.ssh;

import java.util.function.Function;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.session.Session;

/** A channel type name and what to build when a client opens one. */
record NamedChannelFactory(String name, Function<Session, Channel> channels) implements ChannelFactory {
    @Override
    public String getName() {
        return name;
    }

    @Override
    public Channel createChannel(Session session) {
        return channels.apply(session);
    }
}
