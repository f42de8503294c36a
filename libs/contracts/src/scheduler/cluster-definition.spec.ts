import { clusterExecutorRefusal } from './cluster-definition';

describe('where work may run', () => {
  it('runs work on local clusters', () => {
    expect(clusterExecutorRefusal('default', 'local')).toBeNull();
  });

  it('refuses k8s and yarn clusters, saying why', () => {
    expect(clusterExecutorRefusal('prod', 'k8s')).toBe(
      'cluster prod is a k8s cluster: Spindle has no k8s executor yet; use a local cluster (such as default)',
    );
    expect(clusterExecutorRefusal('hadoop', 'yarn')).toContain('no yarn executor yet');
  });
});
