/*
 * cmd_device.c: `ferry device <command>`: dispatch of the device commands (placeholder until the
 * device-directory commands of the devices branch are merged; they replace this file).
 */
#include "cli.h"

#include <string.h>

int cmd_device(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return cmd_device_serve(argc - 1, argv + 1);
    fprintf(stderr, "usage: ferry device serve DIR... --listen UNIX:PATH|HOST:PORT\n");
    return EXIT_USAGE;
}
