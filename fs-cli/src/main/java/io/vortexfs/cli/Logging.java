package io.vortexfs.cli;

/** Sets up slf4j-simple before the first logger exists. Logs go to stderr, one line each. */
final class Logging {
    private Logging() {
    }

    static void configure(boolean debug) {
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", debug ? "debug" : "info");
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSS");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
        setDefault("org.slf4j.simpleLogger.log.io.netty", "warn");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
