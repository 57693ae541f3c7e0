import { HaCommand, UsageError } from '@ha/lib';
import { translateIpvsadm } from '../../ipvsadm/commandline.js';

/**
 * `ha ipvs` with ipvsadm's own command line (`ha ipvs -Ln`, `ha ipvs -A -t VIP:80 -s wrr`): runs
 * the ha ipvs command that does the same; without arguments, the topic's help.
 */
export default class Ipvs extends HaCommand<void> {
  static override summary = "Run an ipvsadm command line: ha ipvs -A -t 192.0.2.10:80 -s wrr, ha ipvs -Ln.";
  static override description = `The ipvs commands take ipvsadm's option letters, and ha ipvs also takes ipvsadm's command letters, so that a script moves over by changing the command name: -A add-service, -E edit-service, -D delete-service, -C clear, -R restore, -S save, -a add-server, -e edit-server, -d delete-server, -Z zero, --set timeout, --start-daemon / --stop-daemon sync start / stop, and -L (or -l) list in ipvsadm's format (-L -c connections, -L --daemon and -L --timeout what ipvsadm prints for them). Bundled letters (-Ln) are split as ipvsadm does; -n changes nothing, since ha never resolves names. Without arguments it prints this topic's commands.`;

  static override examples = [
    { description: 'What ipvsadm -Ln prints.', command: '<%= config.bin %> ipvs -Ln' },
    { description: 'ipvsadm -A: the same as ha ipvs add-service -t 192.0.2.10:80 -s wrr.', command: '<%= config.bin %> ipvs -A -t 192.0.2.10:80 -s wrr' },
    { description: 'ipvsadm -S -n, -R.', command: '<%= config.bin %> ipvs -Sn > /etc/ipvs.rules && ha ipvs -R < /etc/ipvs.rules' },
  ];

  // the words are ipvsadm's; the command they name parses them (--json included) and prints
  static override strict = false;

  protected async exec(): Promise<void> {
    const argv = this.argv;
    if (argv.length === 0) {
      await this.config.runCommand('help', ['ipvs']);
      return;
    }
    const words = translateIpvsadm(argv);
    if (words[0] === 'help') {
      await this.config.runCommand('help', ['ipvs']);
      return;
    }
    const id = `ipvs:${words[0]}`;
    if (!this.config.findCommand(id)) throw new UsageError(`no command ipvs ${words[0]}`);
    await this.config.runCommand(id, words.slice(1));
  }
}
