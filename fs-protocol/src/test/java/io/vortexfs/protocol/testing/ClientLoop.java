package io.vortexfs.protocol.testing;

import io.netty.channel.EventLoopGroup;
import io.vortexfs.protocol.rpc.EventLoops;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An event loop group for a test class's clients, started before its first test and shut down
 * after its last: {@code @RegisterExtension static final ClientLoop loop = new ClientLoop(1);}
 */
public final class ClientLoop implements BeforeAllCallback, AfterAllCallback {
    private final int threads;
    private EventLoopGroup group;

    public ClientLoop(int threads) {
        this.threads = threads;
    }

    public EventLoopGroup group() {
        return group;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        group = EventLoops.newGroup(threads, "test-client");
    }

    @Override
    public void afterAll(ExtensionContext context) {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
