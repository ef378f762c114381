/* The mnemobench subcommands; each takes argv with argv[0] = its name. */
#ifndef MB_COMMANDS_H
#define MB_COMMANDS_H

int mb_cmd_train(int argc, char **argv);
int mb_cmd_forget(int argc, char **argv);
int mb_cmd_eval(int argc, char **argv);
int mb_cmd_devices(int argc, char **argv);
int mb_cmd_quickstart(int argc, char **argv);
int mb_cmd_bench_train(int argc, char **argv);
int mb_cmd_bench_scale(int argc, char **argv);
int mb_cmd_agree(int argc, char **argv);
int mb_cmd_bench(int argc, char **argv);
int mb_cmd_report(int argc, char **argv);
int mb_cmd_slurm(int argc, char **argv);
int mb_cmd_finetune(int argc, char **argv);
int mb_cmd_import(int argc, char **argv);
int mb_cmd_export(int argc, char **argv);

#endif
