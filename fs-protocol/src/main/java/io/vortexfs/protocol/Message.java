package io.vortexfs.protocol;

/**
 * Everything that travels between clients and nodes. A message is either a {@link Request} or a
 * {@link Response}; the bytes of a chunk never live inside a message but travel as the frame's raw
 * payload beside it.
 */
public sealed interface Message permits Request, Response {
}
