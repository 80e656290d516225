/* SPDX-License-Identifier: MIT */
/*
 * main_tsunagu.c - the tsunagu command-line client.  Everything lives in
 * daemon/cli/cli.c (dispatch) and the cli_*.c verb files.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
