package io.vortexfs.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "token", mixinStandardHelpOptions = true,
        description = {"Print the bearer token of the nodes' REST file API, derived from the cluster key:",
            "curl -H \"Authorization: Bearer $(vortex token --key-file K)\" http://NODE:7480/api/files/"})
final class TokenCommand implements Runnable {
    @Mixin
    KeyOption key;

    @Override
    public void run() {
        if (key.keyFile == null) {
            throw new UserError("give the cluster's key with --key-file (a cluster without a key needs no token)");
        }
        System.out.println(key.key().apiToken());
    }
}
