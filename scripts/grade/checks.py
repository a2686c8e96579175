"""What every check of the grading kit is, and the sentence of the assignment
it enforces. A check whose `required` is False can only warn."""

SPEC = "EX5 - Containers"

# id: (title, required, assignment sentence)
CHECKS = {
    "build": (
        "make builds libserver.a and libclient.a",
        True,
        "Makefile - your makefile should generate two static libraries named: libclient.a libserver.a "
        "when running 'make' with no arguments.",
    ),
    "conformance.compile": (
        "the course API compiles and links against the submission's headers and libraries",
        True,
        "Use the provided function signatures and ensure your implementation aligns with the specified requirements.",
    ),
    # ---- conformance: server (libserver.a alone)
    "conformance.Server.StartCommunication": (
        "start_communication: listening socket on the port, segment under ftok(shm_pathname, proj_id)",
        True,
        "The start_communication function should create a socket to listen on and allocate a shared memory "
        "segment, using the information provided with the struct given as an argument.",
    ),
    "conformance.Server.CreateInfoFile": (
        "create_info_file: <IP>\\n<port>\\n<shm_pathname>\\n<shm_proj_id>, path saved in info_file_path",
        True,
        "The content of this file should be in the following format: <IP> <port> <shm_pathname> <shm_proj_id>",
    ),
    "conformance.Server.GetConnectionAndWriteToSocket": (
        "get_connection returns 0 with a client waiting; write_to_socket sends exactly the message",
        True,
        "The write_to_socket function should send the specified msg via the server socket.",
    ),
    "conformance.Server.WriteToShm": (
        "write_to_shm: the segment holds the message",
        True,
        "The write_to_shm function should write the specified message to the shared memory segment.",
    ),
    "conformance.Server.Shutdown": (
        "shutdown: socket closed, segment deallocated, info file deleted, no descriptor left",
        True,
        "The shutdown function should handle the cleanup and shutdown of the server, including the closing of "
        "the server socket, and deallocating the shared memory segment ... It should also delete the info file.",
    ),
    "conformance.Server.Run": (
        "server run(): shm message, info file, socket message, then everything freed",
        True,
        "The run function should do the following steps: 1. Set up a server ... 6. Shutdown the server.",
    ),
    # ---- conformance: client (libclient.a alone)
    "conformance.Client.CountServersReturnsAndAppends": (
        "count_servers returns the number of servers and appends to the vector",
        True,
        "For every file inside client_files_directory, you should add a live_server_info object to the servers "
        "vector. ... The function should return the number of servers found.",
    ),
    "conformance.Client.SortedOrder": (
        "servers in the order of their file names",
        True,
        "The order of the servers inside servers should match the order of the files under the directory "
        "client_files_directory when sorted alphabetically.",
    ),
    "conformance.Client.MissingSegmentIsMinusOne": (
        "shmid -1 for a server without a segment",
        True,
        "If no shared memory segment is found with the given pathname and proj_id, you should store the value -1 "
        "inside shmid.",
    ),
    "conformance.Client.NoIpcCreat": (
        "the client never creates a segment (no IPC_CREAT)",
        True,
        "Make sure that you don't add the flag IPC_CREAT when calling shmget() to check if the shared memory "
        "segment is allocated.",
    ),
    "conformance.Client.GetMessageFromShm": (
        "get_message_from_shm reads the server's message",
        True,
        "The get_message_from_shm function reads a message from the shared memory segment whose information is "
        "stored in server.",
    ),
    "conformance.Client.GetMessageFromSocket": (
        "get_message_from_socket reads the server's message",
        True,
        "The get_message_from_socket function reads a message from the socket whose information is stored in server.",
    ),
    "conformance.Client.PrintServerInfosFormat": (
        "print_server_infos: the summary byte for byte",
        True,
        "Results should be printed in the following format: Total Servers: <num_servers> Host: ... Container: ... "
        "VM: ... Messages: <msg_1> <msg_2> ... <msg_n>",
    ),
    "conformance.Client.Run": (
        "client run(): the summary on stdout, nothing on stderr",
        True,
        "Print the summary on all servers, as well as any msg sent by the servers, using the format defined by "
        "print_server_infos.",
    ),
    "conformance.Client.Disconnect": (
        "disconnect closes every socket and leaves the segments to the servers",
        True,
        "This function should not deallocate the shared memory segments. It is the responsibility of the servers "
        "to deallocate the shared memory segments.",
    ),
    # ---- error contract
    "error.ErrorContract.BindFailure": (
        "bind failure: one 'system error: ' line, exit 1, nothing left",
        True,
        "When a system call fails ... print a single line in the following format: \"system error: text\\n\" ... "
        "free any resources allocated before exiting ... exit with exit(1).",
    ),
    "error.ErrorContract.MissingInfoDirectory": (
        "missing info directory: one 'system error: ' line, exit 1, nothing left",
        True,
        "You should also free any resources allocated before exiting, such as the socket connection, the shared "
        "memory segment, and removing the info file.",
    ),
    "error.ErrorContract.ShmgetFailure": (
        "shmget failure: one 'system error: ' line, exit 1, nothing left",
        True,
        "When a system call fails (such as memory allocation) you should print a single line in the following "
        "format: \"system error: text\\n\"",
    ),
    "error.ErrorContract.ClientMissingDirectory": (
        "client on a missing directory: one 'system error: ' line, exit 1",
        True,
        "When a system call fails (such as memory allocation) you should print a single line in the following "
        "format: \"system error: text\\n\"",
    ),
    # ---- timeouts
    "timeouts.Timeouts.ClientConnectBlackHole": (
        "client with a SYN-dropping server: done within 5 s + 3 s, server counted as VM",
        True,
        "You should set a timeout of 5 seconds for the socket to establish a connection to each server. Use the "
        "select() syscall with the client socket added into the writefds set argument.",
    ),
    "timeouts.server_select": (
        "server waits for the client with select(), 120 s, right before accept() (traced)",
        True,
        "You should set a timeout of 120 seconds for the socket to get a connection from the client. Use the "
        "select() syscall ... You should call the select() syscall right before calling the accept() syscall.",
    ),
    # ---- hygiene (host workflow)
    "hygiene.workflow": (
        "host workflow: the submission's server with the reference client gives the host summary",
        True,
        "Start the servers in their respective environments ... Start the client ... Print the results.",
    ),
    "hygiene.server_exit": (
        "the server exits promptly after the client is done",
        True,
        "The servers are responsible for freeing the shared memory, and will do so after the client has accessed it.",
    ),
    "hygiene.leftovers": (
        "nothing left after the run: no segment, info file or process",
        True,
        "a shared memory segment is not freed by the operating system, and therefore it is your responsibility "
        "of deallocating the shared memory segment yourself in any case!",
    ),
    "hygiene.Sigpipe.Server": (
        "server whose client resets the connection: no death by SIGPIPE",
        True,
        "Make sure to appropriately handle errors and exceptions in your code.",
    ),
    "hygiene.Sigpipe.Client": (
        "client whose server resets the connection: no death by SIGPIPE",
        True,
        "Make sure to appropriately handle errors and exceptions in your code.",
    ),
    "hygiene.valgrind": (
        "valgrind: no memory errors in the submission's server and client",
        False,
        "Make sure to appropriately handle errors and exceptions in your code.",
    ),
    # ---- interop notes
    "interop.Interop.InfoFileFinalNewline": (
        "info file ends with a newline and has no CR",
        False,
        "The content of this file should be in the following format: <IP>\\n<port>\\n<shm_pathname>\\n<shm_proj_id>",
    ),
}

WORKFLOW_SENTENCE = (
    "The main objective of the system is for the client to detect and identify the environment that each server "
    "is running on."
)


def env_check(check_id):
    """Metadata for env.* checks: env.server.<env>, env.client, env.own."""
    parts = check_id.split(".")
    if parts[1] == "server":
        title = "the submission's server in the %s environment, the reference client" % parts[2]
    elif parts[1] == "client":
        title = "the reference servers in every environment, the submission's client"
    else:
        title = "the submission's servers in every environment, its own client"
    return (title, True, WORKFLOW_SENTENCE)


def meta(check_id):
    if check_id in CHECKS:
        return CHECKS[check_id]
    if check_id.startswith("env."):
        return env_check(check_id)
    return (check_id, True, "")
