import { viewFstab } from './file-system-view';

describe('viewFstab', () => {
  it('makes every mount read-only, then a fresh /tmp, the kept directories, /dev/shm and the writable ones, in that order', () => {
    const fstab = viewFstab(['/', '/proc', '/mnt/with\\040space'], {
      kept: ['/tmp/tree', '/tmp/runtime'],
      writable: ['/tmp/tree/jobs/a b', '/var/lib/spindle/w1'],
      devShm: true,
    });
    expect(fstab.split('\n')).toEqual([
      'none // none remount,bind,ro 0 0', // `mount -a` skips an entry for "/" itself
      'none /proc none remount,bind,ro 0 0',
      'none /mnt/with\\040space none remount,bind,ro 0 0', // as mountinfo escapes it
      'spindle-tmp /tmp tmpfs mode=1777,nosuid,nodev 0 0',
      '/proc/self/fd/9 /tmp/tree none bind,X-mount.mkdir 0 0',
      '/proc/self/fd/8 /tmp/runtime none bind,X-mount.mkdir 0 0',
      'spindle-shm /dev/shm tmpfs mode=1777,nosuid,nodev 0 0',
      '/tmp/tree/jobs/a\\040b /tmp/tree/jobs/a\\040b none bind 0 0',
      'none /tmp/tree/jobs/a\\040b none remount,bind,rw 0 0',
      '/var/lib/spindle/w1 /var/lib/spindle/w1 none bind 0 0',
      'none /var/lib/spindle/w1 none remount,bind,rw 0 0',
      '',
    ]);
  });

  it('binds a directory of the host on /tmp when asked, writable, before the kept directories go into it', () => {
    const fstab = viewFstab(['/'], {
      kept: ['/tmp/tree'],
      writable: ['/srv/job'],
      devShm: false,
      tmp: '/tmp/apollo-x y',
    });
    expect(fstab.split('\n').slice(1, 4)).toEqual([
      '/tmp/apollo-x\\040y /tmp none bind 0 0',
      'none /tmp none remount,bind,rw,nosuid,nodev 0 0',
      '/proc/self/fd/9 /tmp/tree none bind,X-mount.mkdir 0 0',
    ]);
  });

  it('leaves /dev/shm alone on a host without one', () => {
    expect(viewFstab(['/'], { kept: [], writable: ['/srv/job'], devShm: false })).not.toContain('/dev/shm');
  });
});
